// PyScript 0.7.31 compiles its *worker* hooks with Function() while it starts,
// even on a page that never creates a worker. Our CSP forbids eval (no
// 'unsafe-eval'), so that one call would throw and stop the boot.
// This page uses no workers, so we answer exactly that call shape with an inert
// hook and leave every other Function() call to the browser (and to the CSP).
(() => {
  "use strict";
  const NativeFunction = globalThis.Function;
  const WORKER_HOOK = /^return\(w,x\)=>\(/;
  const inert = () => undefined;
  const guard = {
    apply(target, thisArg, args) {
      if (args.length === 1 && typeof args[0] === "string" && WORKER_HOOK.test(args[0])) {
        return () => inert;
      }
      return Reflect.apply(target, thisArg, args);
    },
    construct(target, args, newTarget) {
      if (args.length === 1 && typeof args[0] === "string" && WORKER_HOOK.test(args[0])) {
        return () => inert;
      }
      return Reflect.construct(target, args, newTarget);
    },
  };
  globalThis.Function = new Proxy(NativeFunction, guard);
})();
