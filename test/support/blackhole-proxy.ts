import { Server, Socket, connect, createServer } from 'node:net';

/**
 * A TCP proxy in front of a server that can turn into a network dropping every packet: while `drop()`
 * holds, no byte passes in either direction and new connections are accepted but never answered (no RST,
 * no FIN, as when a firewall or a dead link swallows packets). `restore()` lets the held bytes through in
 * order, as TCP retransmission would once the link is back.
 */
export class BlackholeProxy {
  private dropping = false;
  private readonly links = new Set<{ flush(): void; close(): void }>();

  private readonly server: Server = createServer((client) => this.link(client));

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<BlackholeProxy> {
    const proxy = new BlackholeProxy(targetHost, targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The port the proxy listens on (127.0.0.1). */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** From now on nothing passes. */
  drop(): void {
    this.dropping = true;
  }

  /** The link is back: held bytes go through, new connections reach the server. */
  restore(): void {
    this.dropping = false;
    for (const link of this.links) link.flush();
  }

  async stop(): Promise<void> {
    for (const link of this.links) link.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private link(client: Socket): void {
    let upstream: Socket | undefined;
    const toServer: Buffer[] = [];
    const toClient: Buffer[] = [];
    const open = () => {
      upstream = connect(this.targetPort, this.targetHost);
      upstream.on('data', (chunk: Buffer) => {
        if (this.dropping) toClient.push(chunk);
        else client.write(chunk);
      });
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => client.destroy());
    };
    const link = {
      flush: () => {
        if (!upstream) open();
        for (const chunk of toServer.splice(0)) upstream!.write(chunk);
        for (const chunk of toClient.splice(0)) client.write(chunk);
      },
      close: () => {
        client.destroy();
        upstream?.destroy();
      },
    };
    this.links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (this.dropping || !upstream) toServer.push(chunk);
      else upstream.write(chunk);
    });
    client.on('error', () => upstream?.destroy());
    client.on('close', () => {
      upstream?.destroy();
      this.links.delete(link);
    });
    // A connection made while packets are dropped reaches the server only once the link is back.
    if (!this.dropping) open();
  }
}
