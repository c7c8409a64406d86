/** Where the Redis of the queues is: one server, or the seed nodes of a Redis Cluster. */
export interface RedisTarget {
  /** One node for a single server; a cluster's seed nodes (any of its nodes; the rest are discovered). */
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  /** Logical database; a cluster has only 0. */
  db: number;
  tls: boolean;
}

/**
 * Parses REDIS_URL: `redis[s]://[user:password@]host[:port][/db]`, or a cluster's seed nodes as a comma
 * list in place of the host, `redis[s]://[user:password@]host1:port1,host2:port2,host3:port3`. The
 * credentials and TLS apply to every node. Throws an Error whose message completes "REDIS_URL ...".
 */
export function parseRedisUrl(value: string): RedisTarget {
  const match = /^(rediss?:)\/\/([^/?#]*)(.*)$/i.exec(value.trim());
  if (!match) throw new Error('must be a URL starting with redis:// or rediss://');
  const [, protocol, authority, rest] = match;
  const at = authority.lastIndexOf('@');
  const userInfo = at >= 0 ? authority.slice(0, at + 1) : '';
  const hosts = authority.slice(at + 1).split(',');
  // Each node is read as a URL of its own, so that ports, IPv6 brackets and escapes follow the URL rules.
  const urls = hosts.map((host, index) => {
    if (host.trim() === '') throw new Error(`has an empty host (node ${index + 1} of ${hosts.length})`);
    try {
      return new URL(`${protocol}//${userInfo}${host.trim()}${rest}`);
    } catch {
      throw new Error(`has an invalid host:port "${host.trim()}"`);
    }
  });
  const first = urls[0];
  const path = first.pathname.length > 1 ? first.pathname.slice(1) : '0';
  if (!/^\d+$/.test(path)) throw new Error(`has "/${path}" where a database number belongs`);
  const nodes = urls.map((url) => ({
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : 6379,
  }));
  const seen = new Set<string>();
  for (const node of nodes) {
    const key = `${node.host}:${node.port}`;
    if (seen.has(key)) throw new Error(`lists ${key} twice`);
    seen.add(key);
  }
  return {
    nodes,
    username: first.username ? decodeURIComponent(first.username) : undefined,
    password: first.password ? decodeURIComponent(first.password) : undefined,
    db: Number(path),
    tls: protocol.toLowerCase() === 'rediss:',
  };
}

/**
 * Whether REDIS_URL names a Redis Cluster: REDIS_CLUSTER when set, otherwise whenever it lists more than
 * one node (one seed node needs REDIS_CLUSTER=true, e.g. a managed cluster's configuration endpoint).
 */
export function isRedisCluster(config: { REDIS_URL?: string; REDIS_CLUSTER?: boolean }): boolean {
  if (config.REDIS_CLUSTER !== undefined) return config.REDIS_CLUSTER;
  return config.REDIS_URL ? parseRedisUrl(config.REDIS_URL).nodes.length > 1 : false;
}
