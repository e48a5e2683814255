// The official JavaScript SDK against a numberpool server, from a connection string over HTTPS.
//
//   NUMBERPOOL_CONNECTION_STRING=endpoint=https://127.0.0.1:8443/;accesskey=...
//   NODE_EXTRA_CA_CERTS=/path/to/.numberpool/tls/ca.pem
//   node lifecycle.mjs [--reservations]
//
// Prints one "ok <step>" line per step and "js-sdk: N steps passed" at the end; exits 1 at the
// first failure. Run by tests/test_js_sdk.py.

import { randomUUID } from "node:crypto";
import assert from "node:assert/strict";
import { PhoneNumbersClient } from "@azure/communication-phone-numbers";

const connectionString = process.env.NUMBERPOOL_CONNECTION_STRING;
if (!connectionString) {
  console.error("NUMBERPOOL_CONNECTION_STRING is not set");
  process.exit(2);
}
const withReservations = process.argv.includes("--reservations");
const client = new PhoneNumbersClient(connectionString);
const fast = { updateIntervalInMs: 0 };
let steps = 0;

function ok(step, detail = "") {
  steps += 1;
  console.log(`ok ${step}${detail ? ": " + detail : ""}`);
}

async function all(iterator) {
  const items = [];
  for await (const item of iterator) items.push(item);
  return items;
}

async function notFound(promise) {
  await assert.rejects(promise, (error) => error.statusCode === 404);
}

async function catalog() {
  const countries = await all(client.listAvailableCountries());
  assert.ok(countries.some((c) => c.countryCode === "US"), JSON.stringify(countries));
  ok("countries", countries.map((c) => c.countryCode).join(","));

  const offerings = await all(client.listAvailableOfferings("US", { phoneNumberType: "tollFree" }));
  assert.ok(offerings.length > 0 && offerings.every((o) => o.phoneNumberType === "tollFree"));
  ok("offerings", `${offerings.length} US toll-free`);

  const tollFree = await all(client.listAvailableTollFreeAreaCodes("US"));
  assert.ok(tollFree.some((a) => a.areaCode === "800"), JSON.stringify(tollFree));
  ok("toll-free area codes", tollFree.map((a) => a.areaCode).join(","));

  const localities = await all(client.listAvailableLocalities("US", { administrativeDivision: "WA" }));
  assert.ok(localities.some((l) => l.localizedName === "Seattle"), JSON.stringify(localities));
  ok("localities", `${localities.length} in WA`);

  const mobile = await all(client.listAvailableMobileAreaCodes("IE"));
  assert.deepEqual(mobile.map((a) => a.areaCode).sort(), ["83", "85", "86", "87", "89"]);
  ok("mobile area codes", "IE");
}

async function lifecycle() {
  const searchPoller = await client.beginSearchAvailablePhoneNumbers(
    {
      countryCode: "US",
      phoneNumberType: "tollFree",
      assignmentType: "application",
      capabilities: { calling: "inbound+outbound", sms: "none" },
      quantity: 1,
    },
    fast,
  );
  const search = await searchPoller.pollUntilDone();
  assert.equal(search.phoneNumbers.length, 1);
  const [number] = search.phoneNumbers;
  ok("search", number);

  await (await client.beginPurchasePhoneNumbers(search.searchId, fast)).pollUntilDone();
  ok("purchase", search.searchId);

  const owned = await client.getPurchasedPhoneNumber(number);
  assert.equal(owned.phoneNumber, number);
  assert.deepEqual(owned.capabilities, { calling: "inbound+outbound", sms: "none" });
  ok("get", `${owned.phoneNumber} ${owned.phoneNumberType}`);

  const listed = await all(client.listPurchasedPhoneNumbers());
  assert.ok(listed.some((n) => n.phoneNumber === number));
  ok("list", `${listed.length} owned`);

  const updatePoller = await client.beginUpdatePhoneNumberCapabilities(
    number,
    { calling: "inbound+outbound", sms: "inbound+outbound" },
    fast,
  );
  const updated = await updatePoller.pollUntilDone();
  assert.deepEqual(updated.capabilities, { calling: "inbound+outbound", sms: "inbound+outbound" });
  ok("update capabilities", JSON.stringify(updated.capabilities));

  await (await client.beginReleasePhoneNumber(number, fast)).pollUntilDone();
  await notFound(client.getPurchasedPhoneNumber(number));
  ok("release", number);
}

async function operatorInformation() {
  const plain = await client.searchOperatorInformation(["+353861234567"]);
  assert.equal(plain.values[0].internationalFormat, "+353 86 123 4567");
  const detailed = await client.searchOperatorInformation(["+353861234567"], {
    includeAdditionalOperatorDetails: true,
  });
  const [info] = detailed.values;
  assert.equal(info.isoCountryCode, "IE");
  assert.equal(info.numberType, "mobile");
  assert.equal(info.operatorDetails.name, "O2");
  await assert.rejects(
    client.searchOperatorInformation(["+353861234567", "+353861234568"]),
    (error) => error.statusCode === 400 && /Can only accept one phoneNumber/.test(error.message),
  );
  ok("operator information", `${info.phoneNumber} ${info.operatorDetails.name}`);
}

async function reservations() {
  const browsed = await client.browseAvailablePhoneNumbers(
    { countryCode: "US", phoneNumberType: "tollFree" },
    { capabilities: { calling: "outbound" }, assignmentType: "application" },
  );
  assert.ok(browsed.phoneNumbers.length >= 3, JSON.stringify(browsed));
  const [first, second, third] = browsed.phoneNumbers;
  ok("browse", `${browsed.phoneNumbers.length} numbers`);

  const reservationId = randomUUID();
  const created = await client.createOrUpdateReservation({ reservationId }, { add: [first, second] });
  assert.equal(created.status, "active");
  assert.equal(Object.keys(created.phoneNumbers).length, 2);
  ok("reservation create", reservationId);

  const added = await client.createOrUpdateReservation({ reservationId }, { add: [third] });
  assert.equal(Object.keys(added.phoneNumbers).length, 3);
  ok("reservation add", third.phoneNumber);

  const removed = await client.createOrUpdateReservation({ reservationId }, { remove: [second.id, third.id] });
  assert.deepEqual(Object.values(removed.phoneNumbers).map((n) => n.phoneNumber), [first.phoneNumber]);
  ok("reservation remove", `${second.phoneNumber}, ${third.phoneNumber}`);

  const read = await client.getReservation(reservationId);
  assert.equal(read.id, reservationId);
  assert.deepEqual(Object.values(read.phoneNumbers).map((n) => n.phoneNumber), [first.phoneNumber]);
  ok("reservation get", read.status);

  const listed = await all(client.listReservations());
  assert.ok(listed.some((r) => r.id === reservationId));
  ok("reservation list", `${listed.length} reservations`);

  const doomedId = randomUUID();
  await client.createOrUpdateReservation({ reservationId: doomedId }, { add: [second] });
  await client.deleteReservation(doomedId);
  await notFound(client.getReservation(doomedId));
  ok("reservation delete", doomedId);

  await (await client.beginReservationPurchase(reservationId, fast)).pollUntilDone();
  const owned = await client.getPurchasedPhoneNumber(first.phoneNumber);
  assert.equal(owned.phoneNumber, first.phoneNumber);
  assert.equal((await client.getReservation(reservationId)).status, "completed");
  ok("reservation purchase", first.phoneNumber);

  await (await client.beginReleasePhoneNumber(first.phoneNumber, fast)).pollUntilDone();
  await notFound(client.getPurchasedPhoneNumber(first.phoneNumber));
  ok("release", first.phoneNumber);
}

try {
  await catalog();
  await lifecycle();
  await operatorInformation();
  if (withReservations) await reservations();
  console.log(`js-sdk: ${steps} steps passed`);
} catch (error) {
  console.error(`js-sdk: failed after ${steps} steps:`, error);
  process.exit(1);
}
