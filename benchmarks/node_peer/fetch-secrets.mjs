// The Node peer: an OpenClaw exec provider written the way the seed's original
// (seed 004, `node fetch-secrets.js`) works, for benchmarks/resolve_cold.py only.
//
// It reads the protocol v1 request on stdin, makes a supabase-js client with
// createClient(SUPABASE_URL, key) and calls `get_secret` once per id, one after
// another, then prints the protocol response. Credentials come from the
// environment, as the stdlib baseline's do (the seed read them from the OS
// keychain first; that cost is left out here, so the peer is timed at its best).

import { createClient } from '@supabase/supabase-js';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const request = await readStdin();
const supabase = createClient(process.env.SUPABASE_URL, process.env.SUPABASE_SECRET_KEY);

const values = {};
const errors = {};
for (const id of request.ids) {
  const { data, error } = await supabase.rpc('get_secret', { p_name: id });
  if (error) errors[id] = { message: error.message };
  else if (typeof data !== 'string' || data === '') errors[id] = { message: 'not a string' };
  else values[id] = data;
}

process.stdout.write(JSON.stringify({ protocolVersion: 1, values, errors }), () => process.exit(0));
