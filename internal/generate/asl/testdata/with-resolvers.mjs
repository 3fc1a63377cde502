// Promise.withResolvers (ES2024) is in Node 22+; aws-local-stepfunctions@3
// calls it, and the test machines run Node 20. Loaded with `node --import`.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
