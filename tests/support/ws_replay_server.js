'use strict';
// A real, third-party WebSocket server (npm's ws, installed by scripts/setup)
// for the feeds transport tests. It replays recorded venue messages from a
// .jsonl file, one message per line, each time a client subscribes, and can
// misbehave in the ways a venue does.
//
//   node ws_replay_server.js --data FILE [--host 127.0.0.1] [--tls --cert PEM --key PEM]
//        [--subscribe-match TEXT] [--fault MODE --fault-after N --fault-replays K]
//        [--ping-interval-ms MS] [--fragment-size BYTES] [--interval-ms MS]
//        [--oversize-bytes BYTES] [--quiet]
//
// Faults act after N replayed messages, in the first K replays (a replay
// starts at each subscribe, so K = 1 is "the first connection only"):
//   drop-mid-frame  writes half a frame and destroys the TCP socket
//   silent          sends nothing more (no pings either): a stale feed
//   oversized       sends one message of --oversize-bytes bytes
//   malformed       sends one truncated JSON message, then carries on
//   gap             skips one message (a lost update), then carries on
//   close           closes with 1001 "going away"
// Other options, for every connection:
//   --ping-interval-ms  sends a ping with payload "p<n>" every MS
//   --fragment-size     sends each message as fragments of BYTES, with a ping
//                       between the first and the second fragment
//   --interval-ms       pause between replayed messages (default: none)
//   --quiet             no PONG, KEEPALIVE or REPLAYED lines (the reader of
//                       this output must not allocate while a test measures)
//
// Control messages from a client: the text "ping" is answered with "pong"
// (OKX's keep-alive); {"control":"fault","mode":M,"after":N} arms a fault for
// the next replay.
//
// Stdout, one event per line, read by the test: "LISTENING <port>" first, then
// CONNECTION <id> | SUBSCRIBE <id> <text> | TEXT <id> <text> | KEEPALIVE <id> |
// PONG <id> <payload> | FAULT <id> <mode> | REPLAYED <id> <count> |
// CLOSED <id> <code>. The server exits when stdin closes (its parent died).

const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');

const WebSocket = require(path.join(__dirname, 'node', 'node_modules', 'ws'));

function parseArguments(argv) {
  const options = {
    host: '127.0.0.1',
    tls: false,
    quiet: false,
    cert: null,
    key: null,
    data: null,
    subscribeMatch: 'subscribe',
    fault: 'none',
    faultAfter: 0,
    faultReplays: 1,
    pingIntervalMs: 0,
    fragmentSize: 0,
    intervalMs: 0,
    oversizeBytes: 1 << 20,
  };
  const numeric = {
    '--fault-after': 'faultAfter',
    '--fault-replays': 'faultReplays',
    '--ping-interval-ms': 'pingIntervalMs',
    '--fragment-size': 'fragmentSize',
    '--interval-ms': 'intervalMs',
    '--oversize-bytes': 'oversizeBytes',
  };
  const text = {
    '--host': 'host',
    '--cert': 'cert',
    '--key': 'key',
    '--data': 'data',
    '--subscribe-match': 'subscribeMatch',
    '--fault': 'fault',
  };
  for (let i = 2; i < argv.length; ++i) {
    const flag = argv[i];
    if (flag === '--tls') {
      options.tls = true;
    } else if (flag === '--quiet') {
      options.quiet = true;
    } else if (flag in numeric) {
      options[numeric[flag]] = Number(argv[++i]);
    } else if (flag in text) {
      options[text[flag]] = argv[++i];
    } else {
      throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!options.data) {
    throw new Error('--data FILE is required');
  }
  return options;
}

const options = parseArguments(process.argv);
const messages = fs.readFileSync(options.data, 'utf8').split('\n').filter((line) => line.length > 0);

function log(...fields) {
  process.stdout.write(fields.join(' ') + '\n');
}

const server = options.tls
  ? https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) })
  : http.createServer();
const wss = new WebSocket.WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1 << 20 });

let connectionCount = 0;
let replayCount = 0;
let pendingControlFault = null;

function sendMessage(socket, message, state) {
  if (options.fragmentSize > 0 && message.length > options.fragmentSize) {
    for (let offset = 0; offset < message.length; offset += options.fragmentSize) {
      const last = offset + options.fragmentSize >= message.length;
      socket.send(message.slice(offset, offset + options.fragmentSize), { fin: last, binary: false });
      if (offset === 0) {
        socket.ping(`f${++state.pings}`); // a control frame between fragments is legal
      }
    }
  } else {
    socket.send(message);
  }
}

// Applies the fault; returns true when the replay must stop.
function applyFault(socket, id, fault, state) {
  log('FAULT', id, fault);
  switch (fault) {
    case 'drop-mid-frame':
      // A text frame header announcing 256 bytes, and only 2 of them. The
      // socket is destroyed once they are flushed: destroying at once would
      // also discard the messages still queued in the TLS socket.
      socket._socket.write(Buffer.from([0x81, 126, 0x01, 0x00, 0x7b, 0x22]), () => socket._socket.destroy());
      return true;
    case 'silent':
      state.silent = true;
      return true;
    case 'oversized':
      socket.send(`{"pad":"${'x'.repeat(Math.max(0, options.oversizeBytes - 10))}"}`);
      return false;
    case 'malformed':
      socket.send('{"jsonrpc":"2.0","method":"subscription","params":{"channel":');
      return false;
    case 'gap':
      state.skipNext = true;
      return false;
    case 'close':
      socket.close(1001, 'going away');
      return true;
    default:
      throw new Error(`unknown fault ${fault}`);
  }
}

function replay(socket, id, state) {
  const replayIndex = ++replayCount;
  let fault = null;
  let faultAfter = options.faultAfter;
  if (pendingControlFault) {
    fault = pendingControlFault.mode;
    faultAfter = pendingControlFault.after;
    pendingControlFault = null;
  } else if (options.fault !== 'none' && replayIndex <= options.faultReplays) {
    fault = options.fault;
  }
  const generation = ++state.replayGeneration; // a new subscribe restarts the replay
  let index = 0;
  let sent = 0;
  const step = () => {
    if (generation !== state.replayGeneration || socket.readyState !== WebSocket.OPEN) {
      return;
    }
    while (index < messages.length) {
      if (fault && sent === faultAfter) {
        const mode = fault;
        fault = null;
        if (applyFault(socket, id, mode, state)) {
          return;
        }
      }
      const message = messages[index++];
      if (state.skipNext) {
        state.skipNext = false;
        continue;
      }
      sendMessage(socket, message, state);
      ++sent;
      if (options.intervalMs > 0) {
        setTimeout(step, options.intervalMs);
        return;
      }
    }
    if (!options.quiet) {
      log('REPLAYED', id, sent);
    }
  };
  step();
}

wss.on('connection', (socket) => {
  const id = ++connectionCount;
  const state = { pings: 0, silent: false, skipNext: false, replayGeneration: 0 };
  log('CONNECTION', id);

  let pinger = null;
  if (options.pingIntervalMs > 0) {
    pinger = setInterval(() => {
      if (!state.silent && socket.readyState === WebSocket.OPEN) {
        socket.ping(`p${++state.pings}`);
      }
    }, options.pingIntervalMs);
  }

  socket.on('message', (data, isBinary) => {
    const message = isBinary ? data.toString('hex') : data.toString('utf8');
    if (message === 'ping') {
      if (!options.quiet) {
        log('KEEPALIVE', id);
      }
      if (!state.silent) {
        socket.send('pong');
      }
      return;
    }
    if (message.startsWith('{"control"')) {
      const control = JSON.parse(message);
      pendingControlFault = { mode: control.mode, after: control.after || 0 };
      log('TEXT', id, message);
      return;
    }
    if (message.includes(options.subscribeMatch)) {
      log('SUBSCRIBE', id, message);
      replay(socket, id, state);
      return;
    }
    log('TEXT', id, message);
  });
  socket.on('pong', (payload) => {
    if (!options.quiet) {
      log('PONG', id, payload.toString('utf8'));
    }
  });
  socket.on('close', (code) => {
    if (pinger) {
      clearInterval(pinger);
    }
    log('CLOSED', id, code);
  });
  socket.on('error', () => {}); // abrupt client drops are part of the tests
});

server.listen(0, options.host, () => log('LISTENING', server.address().port));

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
