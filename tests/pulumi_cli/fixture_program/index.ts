// A TypeScript program using the fixture package through its generated Node.js SDK.
import * as fixture from "@pulumi/fixture";

const greeter = new fixture.Greeter("twice", { who: "platform team", times: 2 });

export const greeting = greeter.greeting;
