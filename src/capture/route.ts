/**
 * Which capture route `heapscope run` takes: the native helper, or only what Node ships
 * (inspector-agent.cts). The helper is used where it loads, unless the caller says no
 * (`--no-native`, `native: false`) or the environment does (`HEAPSCOPE_NATIVE=0`).
 */
import { createRequire } from 'node:module';

export interface CaptureRoute {
  native: boolean;
  /** Why the helper is not used (shown to the user when they did not ask for it). */
  reason?: string;
}

type Loader = { loadNative(): { addon: unknown } | { error: string } };

/** The route for a run: `requested` false forces the route without the helper. */
export function chooseRoute(requested: boolean | undefined, env: NodeJS.ProcessEnv): CaptureRoute {
  if (requested === false)
    return { native: false, reason: 'native helper turned off (--no-native)' };
  if (env.HEAPSCOPE_NATIVE === '0') {
    return { native: false, reason: 'native helper turned off (HEAPSCOPE_NATIVE=0)' };
  }
  // heapscope's own Node stands for the command's: the same platform, usually the same Node.
  // A process whose Node has no helper finds out for itself and takes the inspector route.
  try {
    const loaded = (createRequire(import.meta.url)('../native/load.cjs') as Loader).loadNative();
    return 'error' in loaded ? { native: false, reason: loaded.error } : { native: true };
  } catch (e) {
    return { native: false, reason: (e as Error).message };
  }
}

/**
 * Environment for the command's processes on this route. Without the helper, Node starts
 * V8's tracker itself in every main thread (`--track-heap-objects`: no inspector timer);
 * `HEAPSCOPE_NATIVE=0` keeps every process on the same route.
 */
export function routeEnv(
  route: CaptureRoute,
  exact: boolean,
  nodeOptions: string,
): { HEAPSCOPE_NATIVE?: string; NODE_OPTIONS: string } {
  if (route.native) return { NODE_OPTIONS: nodeOptions };
  return {
    HEAPSCOPE_NATIVE: '0',
    NODE_OPTIONS: exact ? `${nodeOptions} --track-heap-objects` : nodeOptions,
  };
}
