// tfjs-core registers no gradient functions by itself: the union package
// @tensorflow/tfjs does, into the registry that every copy of tfjs-core shares.
// Its ESM sources (tfjs-core/dist/register_all_gradients) use extensionless
// imports that Node cannot load, so under Node the union package's CommonJS
// bundle is the supported way. Browser users who train import
// '@tensorflow/tfjs' (or that file, through their bundler) themselves.
import '@tensorflow/tfjs';
