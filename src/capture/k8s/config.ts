// Where the Kubernetes API is, as users expect it: --k8s-api URL (the collector's k8sAPIURL), --kubeconfig or
// $KUBECONFIG (several files merged as kubectl does: the first to set a name or the current context wins), or
// in-cluster (KUBERNETES_SERVICE_HOST and the pod's service account token), or ~/.kube/config. `auto` turns k8s on
// inside a cluster or when an API URL or kubeconfig is given on the command line; `on` insists (and also reads
// $KUBECONFIG and ~/.kube/config; an error when nothing is configured); `off` never asks. The client library is loaded only when k8s is on (it takes ~0.7 s).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {KubeConfig} from '@kubernetes/client-node'

export type K8sMode = 'auto' | 'on' | 'off'

export interface K8sFlags {
  mode?: K8sMode
  apiUrl?: string
  kubeconfig?: string
  nodeName?: string
}

export interface K8sSetup {
  kubeConfig: KubeConfig
  nodeName: string
  /** Where the API is, for messages. */
  server: string
}

const SA = '/var/run/secrets/kubernetes.io/serviceaccount'

/** A configuration that cannot work (exit code 2, like a usage error). */
export class K8sConfigError extends Error {
  readonly exitCode = 2
}

function inCluster(env: NodeJS.ProcessEnv, saDir: string): boolean {
  return !!env.KUBERNETES_SERVICE_HOST && fs.existsSync(`${saDir}/token`)
}

/** The KubeConfig to use, or undefined when k8s is off. */
export async function resolveK8s(f: K8sFlags, env: NodeJS.ProcessEnv = process.env, saDir = SA): Promise<K8sSetup | undefined> {
  const mode = f.mode ?? 'auto'
  if (mode === 'off') return undefined
  const cluster = inCluster(env, saDir)
  const home = env.HOME ? path.join(env.HOME, '.kube', 'config') : undefined
  const [files, from]: [string[], string] = f.kubeconfig !== undefined ? [[f.kubeconfig], '--kubeconfig']
    : mode === 'on' && env.KUBECONFIG ? [env.KUBECONFIG.split(path.delimiter).filter(Boolean), 'KUBECONFIG']
      : mode === 'on' && !cluster && home !== undefined && fs.existsSync(home) ? [[home], 'kubeconfig'] : [[], '']
  if (mode === 'auto' && f.apiUrl === undefined && f.kubeconfig === undefined && !cluster) return undefined
  const {KubeConfig} = await import('@kubernetes/client-node')
  const kc = new KubeConfig()
  if (f.apiUrl !== undefined) {
    let u: URL
    try {
      u = new URL(f.apiUrl)
    } catch {
      throw new K8sConfigError(`--k8s-api ${f.apiUrl}: not a URL (e.g. https://10.0.0.1:6443 or http://127.0.0.1:8001)`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new K8sConfigError(`--k8s-api ${f.apiUrl}: needs http:// or https://`)
    // Inside a pod, the service account authenticates to whatever API URL is given, with the cluster's CA.
    const sa = fs.existsSync(`${saDir}/token`)
    kc.loadFromClusterAndUser(
      {name: 'sysflow', server: f.apiUrl.replace(/\/+$/, ''), skipTLSVerify: u.protocol === 'http:', caFile: sa && fs.existsSync(`${saDir}/ca.crt`) ? `${saDir}/ca.crt` : undefined},
      sa ? {name: 'sysflow', authProvider: {name: 'tokenFile', config: {tokenFile: `${saDir}/token`}}} : {name: 'sysflow'},
    )
  } else if (files.length > 0) {
    for (const [i, file] of files.entries()) {
      if (!fs.existsSync(file)) throw new K8sConfigError(`${from} ${file}: no such file`)
      try {
        if (i === 0) kc.loadFromFile(file)
        else {
          // kubectl's merge: a name already defined, and a current context already set, are kept
          const more = new KubeConfig()
          more.loadFromFile(file)
          for (const c of more.getClusters()) if (!kc.getClusters().some((x) => x.name === c.name)) kc.addCluster(c)
          for (const u of more.getUsers()) if (!kc.getUsers().some((x) => x.name === u.name)) kc.addUser(u)
          for (const c of more.getContexts()) if (!kc.getContexts().some((x) => x.name === c.name)) kc.addContext(c)
          if (!kc.getCurrentContext() && more.getCurrentContext()) kc.setCurrentContext(more.getCurrentContext())
        }
      } catch (e) {
        throw new K8sConfigError(`${file}: not a usable kubeconfig (${(e as Error).message})`)
      }
    }
  } else if (cluster) {
    kc.loadFromCluster()
  } else {
    throw new K8sConfigError('--k8s on: no Kubernetes API configured (give --k8s-api URL or --kubeconfig PATH, set KUBECONFIG, have ~/.kube/config, or run in a pod with a service account)')
  }
  const server = kc.getCurrentCluster()?.server
  if (!server) throw new K8sConfigError('the kubeconfig names no current cluster')
  return {kubeConfig: kc, nodeName: f.nodeName ?? env.NODE_NAME ?? os.hostname(), server}
}
