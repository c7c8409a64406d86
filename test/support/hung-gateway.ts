import { Server, Socket, createServer } from 'node:net';

/** A gateway that accepts TCP connections and never answers (a hung embedded web server). */
export interface HungGateway {
  url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Most connections open at the same time since the start (or the last resetPeak). */
  readonly peakOpen: number;
  resetPeak(): void;
  stop(): Promise<void>;
}

export async function startHungGateway(protocol: 'http' | 'https' = 'https'): Promise<HungGateway> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let peakOpen = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    peakOpen = Math.max(peakOpen, sockets.size);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    // Reads whatever arrives (a TLS ClientHello, a request) and never writes a byte.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `${protocol}://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    get peakOpen() {
      return peakOpen;
    },
    resetPeak() {
      peakOpen = sockets.size;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
