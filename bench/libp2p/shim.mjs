// libp2p 3.x calls Promise.withResolvers (ES2024, Node >= 22). Node 20 lacks it,
// so install a spec-equivalent polyfill. Import this module before libp2p:
// ES module dependencies evaluate in import order, so `import './shim.mjs'`
// placed first runs before any libp2p module body.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
    writable: true,
    configurable: true,
  });
}
