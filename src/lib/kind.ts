// Record kinds as a runtime object: records.ts declares Kind as a const enum (inlined by tsc, nothing at run time),
// so JavaScript consumers get this object, with the enum's member types, to test `record.kind === Kind.FileFlow`.
import {Kind as K} from '../format/records.js'

export const Kind = Object.freeze({
  Header: K.Header,
  Container: K.Container,
  Process: K.Process,
  File: K.File,
  ProcessEvent: K.ProcessEvent,
  NetworkFlow: K.NetworkFlow,
  FileFlow: K.FileFlow,
  FileEvent: K.FileEvent,
  NetworkEvent: K.NetworkEvent,
  ProcessFlow: K.ProcessFlow,
  Pod: K.Pod,
  K8sEvent: K.K8sEvent,
} as const)
export type Kind = K
