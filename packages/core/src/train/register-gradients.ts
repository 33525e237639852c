// The gradient functions training needs come from tfjs-core's own
// registrations. Bundlers read package.json's `browser` field and load
// register-gradients.browser.js instead of this file. Node cannot load those
// registrations (ES modules with extensionless imports), so under Node
// @vitkit/node registers them; `localGradients` says so when none are there.
export {};
