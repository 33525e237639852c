export * from './torch-checkpoint.js';
export { PyTuple, type PickleValue, type StorageRef, type TensorRef, type TorchDType, UnpicklingError, unpickle } from './unpickler.js';
