// The benchmarks' command line, read the same way by each: `--name value` options and
// `--name` flags. Other words are left alone (a script's child mode reads its own).
const args = process.argv.slice(2);

/** Whether `--name` is given. */
export function flag(name) {
  return args.includes(`--${name}`);
}

/** The word after `--name`, or `fallback` when `--name` is not given. */
export function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}

/** The number after `--name`, or `fallback` when `--name` is not given. */
export function numberOption(name, fallback) {
  return flag(name) ? Number(option(name)) : fallback;
}
