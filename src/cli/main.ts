/**
 * heapscope's command table. The only module that touches `process` (argv, exit code,
 * streams); each command lives in its own file, returns an exit code, and never exits.
 * Exit codes: 0 OK, 1 a check failed, 2 bad usage or input; `run` passes the command's through.
 */
import { Command, CommanderError } from 'commander';
import { version } from './version.js';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if ('NO_COLOR' in env && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** Parses argv (without node and script) and runs one command; resolves to the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let exitCode = 0;
  const program = new Command('heapscope')
    .description('Heap profiler for Node.js: where your memory goes, exact where V8 allows.')
    .version(version, '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('run')
    .description(
      'Run a command and profile every Node process and worker thread it starts (exact allocation tracking).',
    )
    .argument('<command...>', 'the command, after --, e.g. -- node app.js')
    .option('-d, --out-dir <dir>', 'directory for the profiles', '.')
    .option('-o, --out <file>', "file for the main process's profile")
    .option('--sort <metric>', 'sort the report by this metric', 'total-bytes')
    .option('--top <n>', 'program points to show', '10')
    .option(
      '--peak-sample <bytes>',
      'sampling interval for the live-at-peak estimate (0: take the end as the peak)',
      '4096',
    )
    .option('--keep-snapshot', 'keep each end-of-run heap snapshot beside its profile')
    .option('--json', 'print the run result as JSON')
    .option('-q, --quiet', 'print no report')
    .addHelpText(
      'after',
      '\nExamples:\n  heapscope run -- node app.js --some-flag\n  heapscope run --out-dir prof -- npm test',
    )
    .action(async (command: string[], opts) => {
      const { runCommand } = await import('./run.js');
      exitCode = await runCommand(command, opts, io);
    });

  program
    .command('report')
    .description('Print the report of a DHAT file (heapscope, Valgrind DHAT or dhat-rs).')
    .argument('<file>', 'a DHAT JSON profile')
    .option(
      '--sort <metric>',
      'sort by this metric (total-bytes, total-blocks, peak-bytes, end-bytes, ...)',
      'total-bytes',
    )
    .option('--top <n>', 'program points to show', '10')
    .option('--depth <n>', 'stack frames to show per program point')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts) => {
      const { reportCommand } = await import('./report.js');
      exitCode = await reportCommand(file, opts, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    io.stderr.write(`heapscope: ${(e as Error).message}\n`);
    return 2;
  }
  return exitCode;
}
