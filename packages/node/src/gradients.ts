// Gradient functions for training under Node. tfjs-core's own registrations
// (tfjs-core/dist/register_all_gradients, which @vitkit/core imports in
// browser bundles) are ES modules with extensionless imports that Node cannot
// load; the union package's CommonJS bundle registers the same functions into
// the registry every copy of tfjs-core shares.
import '@tensorflow/tfjs';
