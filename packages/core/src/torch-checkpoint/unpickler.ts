// A pickle reader that only builds data: the opcodes of Python's pickle
// protocols 0-5 that a PyTorch state dict uses, and an allow-list of the few
// Python callables such a file names (OrderedDict, the tensor and parameter
// rebuilders, the storage types). A pickle is a program for a stack machine
// whose GLOBAL/REDUCE opcodes call arbitrary Python; here nothing is called:
// an allowed name maps to a JavaScript function that builds a plain value, and
// any other name is refused with an error naming it before anything else runs.

/** A Python tuple (lists are arrays, dicts are Maps). */
export class PyTuple {
  constructor(readonly items: PickleValue[]) {}
}

/**
 * An instance of an allowed attribute-bag class (argparse.Namespace, which
 * timm's train.py saves as `args`): its attributes as pickled, nothing run.
 */
export class PyObject {
  constructor(
    readonly className: string,
    readonly attributes: Map<PickleValue, PickleValue>,
  ) {}
}

/** A storage of a torch.save zip: its bytes are the archive entry `data/KEY`. */
export interface StorageRef {
  kind: 'storage';
  dtype: TorchDType;
  key: string;
  numel: number;
}

/** What torch._utils._rebuild_tensor_v2 describes: a strided view of a storage. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements. */
  offset: number;
  shape: number[];
  stride: number[];
}

interface GlobalRef {
  kind: 'global';
  name: string;
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyTuple
  | PyObject
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | StorageRef
  | TensorRef
  | GlobalRef;

export type TorchDType = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** The legacy storage classes torch.save names in its persistent ids. */
const STORAGE_TYPES: Record<string, TorchDType> = {
  'torch.DoubleStorage': 'float64',
  'torch.FloatStorage': 'float32',
  'torch.HalfStorage': 'float16',
  'torch.BFloat16Storage': 'bfloat16',
  'torch.LongStorage': 'int64',
  'torch.IntStorage': 'int32',
  'torch.ShortStorage': 'int16',
  'torch.CharStorage': 'int8',
  'torch.ByteStorage': 'uint8',
  'torch.BoolStorage': 'bool',
};

export class UnpicklingError extends Error {
  constructor(source: string, reason: string) {
    super(`${source}: ${reason}`);
    this.name = 'UnpicklingError';
  }
}

const isTensor = (v: PickleValue): v is TensorRef => typeof v === 'object' && v !== null && 'kind' in v && v.kind === 'tensor';

function intList(v: PickleValue, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items || !items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${what} is not a tuple of whole numbers`);
  }
  return items as number[];
}

/** The allowed callables: name -> what REDUCE with these arguments builds. */
const CALLABLES: Record<string, (args: PickleValue[]) => PickleValue> = {
  'collections.OrderedDict': (args) => {
    if (args.length) throw new Error('collections.OrderedDict is called with arguments; a state dict starts empty');
    return new Map();
  },
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  'torch._utils._rebuild_tensor_v2': (args) => {
    const [storage, offset, size, stride] = args;
    if (typeof storage !== 'object' || storage === null || !('kind' in storage) || storage.kind !== 'storage') {
      throw new Error('torch._utils._rebuild_tensor_v2 is not given a storage');
    }
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
      throw new Error('a tensor has an invalid storage offset');
    const shape = intList(size!, 'a tensor size');
    const strides = intList(stride!, 'a tensor stride');
    if (shape.length !== strides.length) throw new Error(`a tensor has ${shape.length} sizes but ${strides.length} strides`);
    return { kind: 'tensor', storage, offset, shape, stride: strides };
  },
  // nn.Parameter(data, requires_grad) with its hooks (and, in newer PyTorch, its state): the data is what a state dict keeps.
  'torch._utils._rebuild_parameter': (args) => parameterData(args[0]!),
  'torch._utils._rebuild_parameter_with_state': (args) => parameterData(args[0]!),
};

function parameterData(data: PickleValue): TensorRef {
  if (!isTensor(data)) throw new Error('torch._utils._rebuild_parameter is not given a tensor');
  return data;
}

/**
 * Classes whose instances are only data: protocol 2's NEWOBJ with no
 * arguments makes an empty one (no constructor runs here), and BUILD fills its
 * attributes from a dict. Nothing of the class is ever called.
 */
const ATTRIBUTE_BAGS = ['argparse.Namespace'];

const ALLOWED = [...Object.keys(CALLABLES), ...Object.keys(STORAGE_TYPES), ...ATTRIBUTE_BAGS];

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

/**
 * Runs `data` (a pickle stream) and returns the object it builds. Only the
 * allowed classes may appear; any other is refused with an error naming it.
 */
export function unpickle(data: Uint8Array, source: string): PickleValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;

  const fail = (reason: string): never => {
    throw new UnpicklingError(source, reason);
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > data.length) fail(`the pickle ends inside an opcode at byte ${pos}`);
    const out = data.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => take(1)[0]!;
  const u16 = () => view.getUint16(take(2).byteOffset - data.byteOffset, true);
  const u32 = () => view.getUint32(take(4).byteOffset - data.byteOffset, true);
  const i32 = () => view.getInt32(take(4).byteOffset - data.byteOffset, true);
  const u64 = () => {
    const v = view.getBigUint64(take(8).byteOffset - data.byteOffset, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('a length does not fit in memory');
    return Number(v);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail(`the pickle ends inside a text opcode at byte ${pos}`);
    const text = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const text = (n: number): string => {
    try {
      return utf8.decode(take(n));
    } catch {
      return fail(`a string at byte ${pos - n} is not UTF-8`);
    }
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) fail(`the pickle pops an empty stack at byte ${pos - 1}`);
    return v as PickleValue;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail(`the pickle reads an empty stack at byte ${pos - 1}`);
    return v as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail(`the pickle has no MARK before byte ${pos - 1}`);
    const items = stack.splice(at) as PickleValue[];
    items.shift();
    return items;
  };
  const global = (module: string, name: string): GlobalRef => {
    const full = `${module}.${name}`;
    if (!ALLOWED.includes(full)) {
      fail(`refuses the Python class or function ${full}: only ${ALLOWED.join(', ')} may appear in a checkpoint read here`);
    }
    return { kind: 'global', name: full };
  };
  const refuse = (opcode: string, name?: string): never =>
    fail(`refuses the pickle opcode ${opcode}${name ? ` (on ${name})` : ''}: it builds Python objects a state dict does not need`);
  const setItems = (target: PickleValue, items: PickleValue[]) => {
    if (!(target instanceof Map)) fail('the pickle sets dict items on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<PickleValue, PickleValue>).set(items[i]!, items[i + 1]!);
  };
  const append = (target: PickleValue, items: PickleValue[]) => {
    if (!Array.isArray(target)) fail('the pickle appends to something that is not a list');
    (target as PickleValue[]).push(...items);
  };
  const memoGet = (i: number) => {
    if (!memo.has(i)) fail(`the pickle reads memo ${i}, which it never stored`);
    return memo.get(i)!;
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME: a length hint only
        take(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: {
        // INT (text); protocol 0 writes booleans as 01 / 00
        const t = line();
        stack.push(t === '01' ? true : t === '00' ? false : Number.parseInt(t, 10));
        break;
      }
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4c: // LONG (text)
        stack.push(narrow(BigInt(line().replace(/L$/, ''))));
        break;
      case 0x8a: // LONG1
        stack.push(narrow(littleEndianSigned(take(u8()))));
        break;
      case 0x8b: // LONG4
        stack.push(narrow(littleEndianSigned(take(u32()))));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(line()));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(take(8).byteOffset - data.byteOffset, false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x56: // UNICODE (protocol 0, raw-unicode-escape; state-dict keys are ASCII)
        stack.push(line());
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const d = new Map<PickleValue, PickleValue>();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x67: // GET
        stack.push(memoGet(Number.parseInt(line(), 10)));
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x70: // PUT
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x63: {
        // GLOBAL module\nname\n
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL is not given a module and a name');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE: the one way a callable runs, and only an allowed one, as JavaScript
        const args = pop();
        const fn = pop();
        if (typeof fn !== 'object' || fn === null || !('kind' in fn) || fn.kind !== 'global')
          fail('REDUCE calls something that is not a class');
        const name = (fn as GlobalRef).name;
        const build = CALLABLES[name];
        if (!build)
          fail(`refuses to call ${name}: it is only allowed as ${ATTRIBUTE_BAGS.includes(name) ? 'an attribute bag' : 'a storage type'}`);
        if (!(args instanceof PyTuple)) fail(`REDUCE on ${name} is not given a tuple of arguments`);
        try {
          stack.push(build!((args as PyTuple).items));
        } catch (e) {
          fail(`${(e as Error).message} (at byte ${at})`);
        }
        break;
      }
      case 0x62: {
        // BUILD: an attribute bag's attributes, or those PyTorch sets on a state dict's OrderedDict (`_metadata`), which are dropped
        const state = pop();
        const target = top();
        if (!(state instanceof Map)) fail('refuses BUILD with a state that is not a dict');
        if (target instanceof PyObject) {
          for (const [k, v] of state as Map<PickleValue, PickleValue>) {
            if (typeof k !== 'string') fail(`refuses a ${target.className} attribute named by something that is not a string`);
            target.attributes.set(k, v);
          }
        } else if (!(target instanceof Map)) {
          fail('refuses BUILD (object state) on anything but a dict or an attribute bag');
        }
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistent(pop(), fail));
        break;
      case 0x50: // PERSID (text ids are not what torch.save writes)
        return refuse('PERSID');
      case 0x69: {
        // INST module\nname\n
        const module = line();
        return refuse('INST', `${module}.${line()}`);
      }
      case 0x6f: // OBJ
        return refuse('OBJ');
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args), only an empty attribute bag
        const args = pop();
        const cls = pop();
        const name = typeof cls === 'object' && cls !== null && 'kind' in cls && cls.kind === 'global' ? cls.name : null;
        if (name === null || !ATTRIBUTE_BAGS.includes(name)) return refuse('NEWOBJ', name ?? undefined);
        if (!(args instanceof PyTuple) || args.items.length) fail(`refuses NEWOBJ on ${name} with arguments`);
        stack.push(new PyObject(name, new Map()));
        break;
      }
      case 0x92: // NEWOBJ_EX
        return refuse('NEWOBJ_EX');
      case 0x82:
      case 0x83:
      case 0x84: // EXT1/2/4: the copyreg extension registry
        return refuse('EXT');
      default:
        return fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}

/** torch.save's persistent id: ('storage', StorageType, key, location, numel). */
function persistent(pid: PickleValue, fail: (reason: string) => never): StorageRef {
  const items = pid instanceof PyTuple ? pid.items : [];
  const [tag, type, key, , numel] = items;
  if (tag !== 'storage' || items.length !== 5) fail('a persistent id is not a torch.save storage');
  if (typeof type !== 'object' || type === null || !('kind' in type) || type.kind !== 'global' || !(type.name in STORAGE_TYPES)) {
    fail('a storage has no storage type');
  }
  if (typeof key !== 'string' || !/^\d+$/.test(key)) fail(`a storage key is not a number (${JSON.stringify(key)})`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) fail('a storage has no element count');
  return { kind: 'storage', dtype: STORAGE_TYPES[(type as GlobalRef).name]!, key: key as string, numel: numel as number };
}

function littleEndianSigned(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes.length && bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v;
}

const narrow = (v: bigint): number | bigint =>
  v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
