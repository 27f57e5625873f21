/** Minimal Node-RED typings used by the adapters (re-exported from @types/node-red). */
import type * as NR from 'node-red';

export type RED = NR.NodeAPI;
export type Node = NR.Node;
export type NodeDef = NR.NodeDef;
export type NodeMessage = NR.NodeMessage & Record<string, unknown>;
export type Send = (msg: NR.NodeMessage | Array<NR.NodeMessage | NR.NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;
