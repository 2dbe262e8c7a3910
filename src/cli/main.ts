/**
 * heapscope's command table. The only module that touches `process` (argv, exit code,
 * streams); each command lives in its own file, returns an exit code, and never exits.
 * Exit codes: 0 OK, 1 a check failed, 2 bad usage or input; `run` passes the command's through.
 */
import { Command, CommanderError } from 'commander';
import { DEFAULT_PEAK_SAMPLE_INTERVAL } from '../capture/defaults.js';
import { METRICS } from '../model/metrics.js';
import { printable } from '../util/printable.js';
import type { Io } from './io.js';
import { addFilterOptions, addGroupOptions } from './options.js';
import { version } from './version.js';

/** `--sort`'s help: every metric's name, from the one metrics table. */
const SORT_HELP = `sort by this metric: ${METRICS.map((m) => m.name).join(', ')}`;

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

  const run = program
    .command('run')
    .description(
      'Run a command and profile every Node process and worker thread it starts (exact allocation tracking).',
    )
    .argument('<command...>', 'the command, after --, e.g. -- node app.js')
    .option('-d, --out-dir <dir>', 'directory for the profiles', '.')
    .option('-o, --out <file>', "file for the main process's profile")
    .option('--sort <metric>', SORT_HELP, 'total-bytes')
    .option('--top <n>', 'rows to show', '10')
    .option('--depth <n>', 'stack frames to show per program point')
    .option(
      '--peak-sample <bytes>',
      'sampling interval for the live-at-peak estimate (0: take the end as the peak)',
      String(DEFAULT_PEAK_SAMPLE_INTERVAL),
    )
    .option('--keep-snapshot', 'keep each end-of-run heap snapshot beside its profile')
    .option(
      '--snapshot-signal',
      "exact mode: on each SIGUSR2 the command's main process writes a heap snapshot with allocation traces to the output directory (for `heapscope snapshot a b`)",
    )
    .option(
      '--sample [bytes]',
      "sampled mode: V8's sampling heap profiler, one sample per BYTES allocated on average (default 131072); estimates, at a few percent of overhead",
    )
    .option(
      '--duration <time>',
      'sampled mode: write the profile after this long (60s, 5m, 500ms) and stop sampling; the program goes on',
    )
    .option(
      '--no-native',
      "capture with Node's own means only (node:inspector, node:v8), as where heapscope's native helper is missing (also HEAPSCOPE_NATIVE=0)",
    )
    .option(
      '--no-wait',
      'return when the command ends, without waiting for the Node processes it left running (detached ones): those are not profiled',
    )
    .option('--json', 'print the run result as JSON')
    .option('-q, --quiet', 'print no report');
  addGroupOptions(run);
  addFilterOptions(run, true)
    .addHelpText(
      'after',
      '\nExamples:\n  heapscope run -- node app.js --some-flag\n  heapscope run --out-dir prof -- npm test' +
        '\n  heapscope run --sample -- node server.js\n  heapscope run --sample 4096 --duration 60s -- node server.js' +
        '\n\nIn sampled mode, SIGUSR2 (to the Node process, or to heapscope when the command is one)' +
        '\nwrites the profile so far as heapscope.<pid>-<n>.json and sampling goes on.' +
        '\n\nheapscope returns when the command has ended and so has every Node process it started' +
        '\n(detached ones too), each with its profile written; --no-wait returns at once.',
    )
    .action(async (command: string[], opts) => {
      const { runCommand } = await import('./run.js');
      exitCode = await runCommand(command, opts, io);
    });

  const report = program
    .command('report')
    .description('Print the report of a DHAT file (heapscope, Valgrind DHAT or dhat-rs).')
    .argument('<file>', 'a DHAT JSON profile')
    .option('--sort <metric>', SORT_HELP, 'total-bytes')
    .option('--top <n>', 'rows to show', '10')
    .option('--depth <n>', 'stack frames to show per program point')
    .option('--json', 'print the report as JSON');
  addGroupOptions(report);
  addFilterOptions(report, true)
    .addHelpText(
      'after',
      "\nNode's internal frames are hidden by default: their allocations are charged to the code\nthat called into Node, and sites with no frame of yours show as [node internals].\n\nExamples:\n  heapscope report prof.json --by function\n  heapscope report prof.json --focus 'src/**' --sort end-bytes --depth 3",
    )
    .action(async (file: string, opts) => {
      const { reportCommand } = await import('./report.js');
      exitCode = await reportCommand(file, opts, io);
    });

  const diff = program
    .command('diff')
    .description(
      'What changed between two profiles: totals and per-site deltas, new and vanished sites.',
    )
    .argument('<base>', 'the profile before (DHAT JSON: heapscope, Valgrind DHAT or dhat-rs)')
    .argument('<head>', 'the profile after')
    .option('--metric <metric>', 'sort sites by the change of this metric (default total-bytes)')
    .option('--top <n>', 'changed sites to show (and in --json, the rows kept)', '10')
    .option('--depth <n>', 'stack frames to show per site')
    .option('--exact', 'match sites by identical stacks only (no fuzzy matching of moved code)')
    .option('--json', 'print the diff as JSON')
    .option('--markdown', 'print the diff as markdown');
  addGroupOptions(diff);
  addFilterOptions(diff, true)
    .addHelpText(
      'after',
      '\nSites match by stack; when code moved (lines shifted, a file renamed) they match by\nfunction and file, and the report says which matches were fuzzy.\n\nExample:\n  heapscope diff base.json head.json --metric end-bytes --top 5',
    )
    .action(async (base: string, head: string, opts) => {
      const { diffCommand } = await import('./diff.js');
      exitCode = await diffCommand(base, head, opts, io);
    });

  const check = program
    .command('check')
    .description(
      'Check a profile against memory budgets and a baseline. Exit 0 within budget, 1 over, 2 bad input.',
    )
    .argument('<profile>', 'the profile to check (DHAT JSON)')
    .option('--max-total <size>', 'limit on total bytes allocated, e.g. 50MB')
    .option('--max-peak <size>', 'limit on bytes live at the peak (t-gmax)')
    .option('--max-end <size>', 'limit on bytes live at the end (t-end)')
    .option('--budget-file <file>', 'budgets in JSON (totals, per function or file pattern)')
    .option('--baseline <profile>', 'a profile to compare with for --max-increase')
    .option('--max-increase <limit>', 'allowed growth against the baseline: 5% or 1MB')
    .option('--json', 'print the result as JSON')
    .option('--markdown', 'print the result as markdown')
    .option(
      '--by <what>',
      'apply --max-total, --max-peak, --max-end and --max-increase to each function, file or package instead of the totals',
      'site',
    )
    .option('--cum', "with --by: check each group's inclusive figures instead of self");
  addFilterOptions(check, false)
    .addHelpText(
      'after',
      '\nSizes: 4096, 64KiB, 50MB (decimal) or 1.5MiB (binary). A value equal to its limit passes.\nWhen $GITHUB_STEP_SUMMARY is set, a markdown summary is appended to it.\n\nExamples:\n  heapscope check head.json --max-total 50MB --max-end 1MB\n  heapscope check head.json --baseline base.json --max-increase 5%\n  heapscope check head.json --by function --max-end 1MB\n  heapscope check head.json --budget-file heapscope.budget.json',
    )
    .action(async (file: string, opts) => {
      const { checkCommand } = await import('./check.js');
      exitCode = await checkCommand(file, opts, io);
    });

  program
    .command('compare')
    .description('Profile a command in a git revision and in the working tree, and diff the two.')
    .argument('<rev>', 'the base revision (a commit, branch or tag)')
    .argument('<command...>', 'the command, after --, e.g. -- node bench.js')
    .option(
      '--runs <n>',
      'runs per side; changes within the spread between runs are not significant',
      '1',
    )
    .option('--metric <metric>', 'sort sites by the change of this metric (default total-bytes)')
    .option('--top <n>', 'changed sites to show', '10')
    .option('--depth <n>', 'stack frames to show per site')
    .option('--exact', 'match sites by identical stacks only (no fuzzy matching of moved code)')
    .option('--out-dir <dir>', 'keep the profiles here (base.N.json, head.N.json)')
    .option('--peak-sample <bytes>', 'passed to heapscope run')
    .option('--json', 'print the result as JSON')
    .option('--markdown', 'print the diff as markdown')
    .addHelpText(
      'after',
      "\nBoth sides run in temporary detached git worktrees side by side: <rev>, and a snapshot of\nthe working tree (uncommitted changes and untracked files included), so that paths do not\ndiffer; both use the working tree's node_modules. They are removed afterwards. The\ncommand's output goes to stderr.\n\nExample:\n  heapscope compare main --runs 3 -- node bench/parse.js",
    )
    .action(async (rev: string, command: string[], opts) => {
      const { compareCommand } = await import('./compare.js');
      exitCode = await compareCommand(rev, command, opts, io);
    });

  const view = program
    .command('view')
    .description(
      'Show a profile in the browser (two: base and head, side by side with their diff).',
    )
    .argument('<files...>', 'a DHAT JSON profile, or two (base, head)')
    .option('--html <file>', 'write one self-contained HTML file and exit')
    .option('--port <n>', 'port to serve on, on 127.0.0.1 (0: any free port)', '0')
    .option('--no-open', 'do not open a browser; just print the URL');
  addGroupOptions(view);
  addFilterOptions(view, true)
    .addHelpText(
      'after',
      '\nExamples:\n  heapscope view heapscope.1234.json\n  heapscope view a.json --html report.html\n  heapscope view base.json head.json',
    )
    .action(async (files: string[], opts) => {
      const { viewCommand } = await import('./view.js');
      exitCode = await viewCommand(files, opts, io);
    });

  const convert = program
    .command('convert')
    .description(
      'Convert a profile between DHAT JSON, pprof, Chrome .heapprofile and speedscope (reads .heapsnapshot files with allocation traces too).',
    )
    .argument('<file>', 'a profile: DHAT JSON, pprof (.pb.gz), .heapprofile or .heapsnapshot')
    .option('--to <format>', 'dhat, pprof, heapprofile or speedscope (default: from --out)')
    .option('-o, --out <file>', 'output file (default: beside the input, with the format ending)')
    .option(
      '--metric <names>',
      'speedscope: metrics to write, comma-separated (default all); heapprofile: total-bytes or end-bytes',
    )
    .option(
      '--sample-interval <bytes>',
      'sampling interval of a .heapprofile that does not record it (default: inferred)',
    )
    .option('--json', 'print the conversion result as JSON');
  addFilterOptions(convert, false)
    .addHelpText(
      'after',
      '\nExamples:\n  heapscope convert heapscope.1234.json --to pprof -o heap.pb.gz' +
        '\n  heapscope convert trace.heapprofile --to dhat -o trace.json' +
        '\n  heapscope convert heapscope.1234.json -o heap.speedscope.json',
    )
    .action(async (file: string, opts) => {
      const { convertCommand } = await import('./convert.js');
      exitCode = await convertCommand(file, opts, io);
    });

  program
    .command('snapshot')
    .description(
      'Who holds the memory in a .heapsnapshot (top retainers, retainer paths); with two snapshots of one process, what grew.',
    )
    .argument('<files...>', 'a .heapsnapshot, or before.heapsnapshot after.heapsnapshot')
    .option('--by <what>', 'group by "class" (constructor) or also by allocation "site"', 'class')
    .option(
      '--path <class|@id>',
      'retainer path of the object @id, or of the closest instance of a class; comparing: the paths of all new objects of the class',
    )
    .option('--top <n>', 'rows to show (0: all)', '20')
    .option(
      '--paths <n>',
      'comparison: classes whose new objects to show the retainer paths of, those holding most first',
      '3',
    )
    .option('--new <class>', 'comparison: list the new objects of a class (ids, sizes)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  heapscope snapshot app.heapsnapshot --top 10' +
        '\n  heapscope snapshot app.heapsnapshot --path Leaky' +
        '\n  heapscope snapshot before.heapsnapshot after.heapsnapshot' +
        '\n  heapscope snapshot before.heapsnapshot after.heapsnapshot --new IncomingMessage',
    )
    .action(async (files: string[], opts) => {
      const { snapshotCommand } = await import('./snapshot.js');
      exitCode = await snapshotCommand(files, opts, io);
    });

  program
    .command('attach')
    .description(
      'Profile a Node process that is already running (Linux), through its inspector: a sampled allocation profile for a window, or a heap snapshot.',
    )
    .argument('<pid>', 'the process id of a Node process of this user')
    .option('--duration <time>', 'length of the window (60s, 5m, 500ms); default: until Ctrl-C')
    .option('--interval <bytes>', `bytes between samples on average (default ${131072})`)
    .option('--no-workers', 'profile the main thread only, not the worker threads')
    .option(
      '--live',
      "a table of the heap's size and the top sites so far, redrawn on the terminal (the profile is written at the end)",
    )
    .option('--every <time>', 'with --live: redraw this often', '2s')
    .option(
      '--snapshot [file]',
      'take a heap snapshot instead (streamed to FILE, default heapscope.<pid>.<time>.heapsnapshot) and analyse it like heapscope snapshot',
    )
    .option(
      '--path <class|@id>',
      'with --snapshot: retainer path of an object, or of the closest of a class',
    )
    .option(
      '--compare-after <time>',
      'with --snapshot: a second snapshot after this long (or at Ctrl-C), compared with the first',
    )
    .option('-d, --out-dir <dir>', 'directory for the profiles', '.')
    .option('-o, --out <file>', "file for the main thread's profile")
    .option('--sort <metric>', 'sort the report by this metric', 'total-bytes')
    .option('--top <n>', 'program points to show', '10')
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'print no report')
    .addHelpText(
      'after',
      '\nExamples:\n  heapscope attach 12345 --duration 30s\n  heapscope attach 12345 --live' +
        '\n  heapscope attach 12345 --snapshot --path LeakedSession\n  heapscope attach 12345 --snapshot --compare-after 60s' +
        '\n\nNode opens the inspector on SIGUSR1 where its options say (127.0.0.1:9229 by default);' +
        '\nheapscope closes it again when it is done, and the program goes on as before.',
    )
    .action(async (pid: string, opts) => {
      const { attachCommand } = await import('./attach.js');
      exitCode = await attachCommand(pid, opts, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    io.stderr.write(`${printable(`heapscope: ${(e as Error).message}`)}\n`);
    return 2;
  }
  return exitCode;
}
