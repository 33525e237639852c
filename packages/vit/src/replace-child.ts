// Swapping a registered child module (a new classifier head). Core's Module
// registers children once and has no public way to replace one yet, so this
// reaches its child table directly; it goes away when core gains
// Module.replaceModule (requested in the vit report).
import { Module } from '@vitkit/core';

interface ChildTable {
  childModules: Map<string, Module>;
}

/** Puts `next` in the slot `name` of `parent` and returns the module it held (the caller disposes it). */
export function replaceChild(parent: Module, name: string, next: Module): Module {
  const table = (parent as unknown as ChildTable).childModules;
  const previous = table instanceof Map ? table.get(name) : undefined;
  if (!(previous instanceof Module)) throw new Error(`${parent.constructor.name} has no child '${name}' to replace`);
  table.set(name, next);
  return previous;
}
