// Copyright 2026 the posix-ipc authors. MIT license.
// A job queue with priorities: this process queues jobs, two consumer
// processes take them, urgent ones first.
import { MessageQueue } from "../mq/mod.ts";
import { spawn } from "../pipe/mod.ts";

const [role, name] = Deno.args;
const text = new TextDecoder();

if (role === "consumer") {
  using queue = MessageQueue.open(name!, { read: true });
  for (;;) {
    const { data, priority } = await queue.receive();
    const job = text.decode(data);
    if (job === "stop") break;
    console.log(`  consumer ${Deno.pid} took "${job}" (priority ${priority})`);
    await new Promise((r) => setTimeout(r, 20)); // the work
  }
} else {
  const name = `/example-jobs-${Deno.pid}`;
  using queue = MessageQueue.create(name, {
    write: true,
    maxMessages: 10,
    messageSize: 256,
    unlinkOnClose: true,
  });
  // Queue the jobs before anyone consumes, so the priority order shows.
  const jobs: [string, number][] = [
    ["resize thumbnails", 1],
    ["send newsletter", 0],
    ["charge card #42", 9],
    ["rebuild index", 1],
    ["page the on-call", 20],
    ["clean temp files", 0],
  ];
  for (const [job, priority] of jobs) {
    await queue.send(new TextEncoder().encode(job), { priority });
  }
  console.log(
    `queued ${jobs.length} jobs in ${name}: ${
      JSON.stringify(queue.attributes)
    }`,
  );
  const self = new URL(import.meta.url).pathname;
  const consumers = [1, 2].map(() =>
    spawn(Deno.execPath(), {
      args: ["run", "-A", "--quiet", self, "consumer", name],
    })
  );
  for (const _ of consumers) await queue.send(new TextEncoder().encode("stop")); // priority 0: after the jobs
  await Promise.all(consumers.map((c) => c.status));
  console.log(
    `all jobs done; queue now holds ${queue.attributes.currentMessages} messages`,
  );
}
