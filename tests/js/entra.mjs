// The official JavaScript SDK with a Microsoft Entra ID TokenCredential against `numberpool serve --entra`.
//
//   NUMBERPOOL_ENDPOINT=https://127.0.0.1:8443/
//   NUMBERPOOL_TOKEN=$(numberpool token)            # accepted
//   NUMBERPOOL_EXPIRED_TOKEN=$(...)                 # refused with 401
//   NODE_EXTRA_CA_CERTS=/path/to/.numberpool/tls/ca.pem
//   node entra.mjs
//
// Prints one "ok <step>" line per step and "js-sdk-entra: N steps passed" at the end; exits 1 at
// the first failure. Run by tests/test_entra.py.

import assert from "node:assert/strict";
import { PhoneNumbersClient } from "@azure/communication-phone-numbers";

const endpoint = process.env.NUMBERPOOL_ENDPOINT;
const token = process.env.NUMBERPOOL_TOKEN;
const expiredToken = process.env.NUMBERPOOL_EXPIRED_TOKEN;
if (!endpoint || !token || !expiredToken) {
  console.error("NUMBERPOOL_ENDPOINT, NUMBERPOOL_TOKEN and NUMBERPOOL_EXPIRED_TOKEN must be set");
  process.exit(2);
}

// A TokenCredential as @azure/identity's credentials are: getToken(scopes) resolves to an AccessToken.
function credential(value) {
  const scopes = [];
  return {
    scopes,
    getToken: async (requested) => {
      scopes.push(...[requested].flat());
      return { token: value, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 };
    },
  };
}

const fast = { updateIntervalInMs: 0 };
let steps = 0;

function ok(step, detail = "") {
  steps += 1;
  console.log(`ok ${step}${detail ? ": " + detail : ""}`);
}

async function lifecycle() {
  const good = credential(token);
  const client = new PhoneNumbersClient(endpoint, good);
  const search = await (
    await client.beginSearchAvailablePhoneNumbers(
      {
        countryCode: "US",
        phoneNumberType: "tollFree",
        assignmentType: "application",
        capabilities: { calling: "inbound+outbound", sms: "none" },
        quantity: 1,
      },
      fast,
    )
  ).pollUntilDone();
  assert.equal(search.phoneNumbers.length, 1);
  const [number] = search.phoneNumbers;
  assert.ok(good.scopes.every((s) => s.startsWith("https://communication.azure.com")), good.scopes.join(" "));
  ok("search", number);

  await (await client.beginPurchasePhoneNumbers(search.searchId, fast)).pollUntilDone();
  const owned = await client.getPurchasedPhoneNumber(number);
  assert.equal(owned.phoneNumber, number);
  ok("purchase", number);

  await (await client.beginReleasePhoneNumber(number, fast)).pollUntilDone();
  await assert.rejects(client.getPurchasedPhoneNumber(number), (error) => error.statusCode === 404);
  ok("release", number);
}

async function expired() {
  const client = new PhoneNumbersClient(endpoint, credential(expiredToken));
  await assert.rejects(
    client.getPurchasedPhoneNumber("+18005550100"),
    (error) => error.statusCode === 401 && error.code === "Denied" && /expired/.test(error.message),
  );
  ok("expired token refused", "401 Denied");
}

try {
  await lifecycle();
  await expired();
  console.log(`js-sdk-entra: ${steps} steps passed`);
} catch (error) {
  console.error(`js-sdk-entra: failed after ${steps} steps:`, error);
  process.exit(1);
}
