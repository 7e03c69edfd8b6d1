// Plan a compiled Pulumi Node.js program under the Node.js SDK's mocks and print, as JSON on
// stdout, every resource it registered (type, name, custom, inputs) and its stack outputs.
// Usage: node mock_plan.js <program.js> <project> <stack>   (NODE_PATH resolves @pulumi/*)
"use strict";
const pulumi = require("@pulumi/pulumi");

async function main() {
  const [program, project, stack] = process.argv.slice(2);
  const resources = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, custom: args.custom, inputs: args.inputs });
        return { id: args.custom ? `${args.name}-id` : undefined, state: args.inputs };
      },
      call(args) {
        return args.inputs;
      },
    },
    project,
    stack,
    false,
  );
  const exported = require(program);
  const outputs = {};
  for (const [key, value] of Object.entries(exported)) {
    outputs[key] = await new Promise((resolve) => pulumi.output(value).apply(resolve));
  }
  await pulumi.runtime.disconnect();
  process.stdout.write(JSON.stringify({ resources, outputs }));
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
