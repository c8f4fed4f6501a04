#!/usr/bin/env node
// The Z-Wave JS test stack of the zwave package: the real zwave-js driver and
// @zwave-js/server, in front of a simulated keypad deadbolt built from
// zwave-js's own mock controller and node. Everything listens on loopback
// only; nothing is advertised over mDNS (zwave-js's own bin/mock-server does
// both on every interface).
//
//   node stack.cjs [--slots 30] [--port 0] [--no-query-all-user-codes]
//
// Once the driver has interviewed the lock and the server listens, one JSON
// line goes to stdout:
//   {"ready":true,"ws":"ws://127.0.0.1:P","control":"http://127.0.0.1:Q","node":2}
// Everything else (logs) goes to stderr. The control API acts on the lock as
// a person at the door would (see the routes below), and stops and starts the
// WebSocket server to play a hub that goes away. The process ends on SIGTERM,
// SIGINT or when stdin closes, so a test that dies takes it along.
"use strict";

const net = require("node:net");
const http = require("node:http");
const os = require("node:os");
const fs = require("node:fs");
const path = require("node:path");

const { Driver } = require("zwave-js");
const { ZwavejsServer } = require("@zwave-js/server");
const {
	MockController,
	MockNode,
	createMockZWaveRequestFrame,
} = require("@zwave-js/testing");
const { createAndOpenMockedZWaveSerialPort } = require("@zwave-js/serial/mock");
const {
	createDefaultMockControllerBehaviors,
	createDefaultMockNodeBehaviors,
} = require("zwave-js/Testing");
const { CommandClasses } = require("@zwave-js/core");
const cc = require("@zwave-js/cc");

const args = process.argv.slice(2);
function arg(name, def) {
	const i = args.indexOf(name);
	return i === -1 ? def : args[i + 1];
}
const SLOTS = Number(arg("--slots", "30"));
// --no-query-all-user-codes plays a hub set up wrong: zwave-js reads no
// user code at the interview.
const QUERY_ALL_USER_CODES = !args.includes("--no-query-all-user-codes");
const NODE_ID = 2;
const HOST = "127.0.0.1";

const log = (...a) => console.error(new Date().toISOString(), "stack:", ...a);

// Door Lock CC modes (Door Lock CC, DoorLockMode).
const UNSECURED = 0x00;
const SECURED = 0xff;
const UNKNOWN = 0xfe; // what a jammed bolt reports
// Notification CC types and Access Control events.
const ACCESS_CONTROL = 0x06;
const HOME_SECURITY = 0x07;
const POWER_MANAGEMENT = 0x08;
const EV = {
	idle: 0x00,
	manualLock: 0x01,
	manualUnlock: 0x02,
	rfLock: 0x03,
	rfUnlock: 0x04,
	keypadLock: 0x05,
	keypadUnlock: 0x06,
	jammed: 0x0b,
	codeLimit: 0x13, // "Manually enter user access code exceeds code limit"
	keypadDisabled: 0x10,
};
const WRONG_CODES_BEFORE_DISABLE = 5;

// --- the simulated lock ----------------------------------------------------

// Battery CC has no mock behaviour in zwave-js: answer Battery Get from the
// node's state.
const respondToBatteryGet = {
	handleCC(controller, self, receivedCC) {
		if (receivedCC instanceof cc.BatteryCCGet) {
			return {
				action: "sendCC",
				cc: new cc.BatteryCCReport({
					nodeId: controller.ownNodeId,
					level: self.state.get("battery") ?? 90,
				}),
			};
		}
	},
};

// zwave-js reads the current state of each notification type at interview
// (Notification Get), which zwave-js's mock does not answer: answer "idle".
const respondToNotificationGet = {
	handleCC(controller, self, receivedCC) {
		if (receivedCC instanceof cc.NotificationCCGet) {
			return {
				action: "sendCC",
				cc: new cc.NotificationCCReport({
					nodeId: controller.ownNodeId,
					notificationType: receivedCC.notificationType,
					notificationEvent: 0,
				}),
			};
		}
	},
};

// A node that is "dead" answers nothing and acknowledges nothing, as a lock
// out of range or with a flat battery.
const deadNode = {
	handleCC(controller, self) {
		if (self.state.get("dead")) return { action: "stop" };
	},
};

// A jammed bolt refuses to move: a Door Lock Operation Set is acknowledged
// but the bolt stays where it is (Unknown), as a real jammed deadbolt does.
const jammedBolt = {
	handleCC(controller, self, receivedCC) {
		if (
			self.state.get("jammed")
			&& receivedCC instanceof cc.DoorLockCCOperationSet
		) {
			return { action: "ok" };
		}
	},
};

async function createLock(mockController) {
	const node = await MockNode.create({
		id: NODE_ID,
		controller: mockController,
		capabilities: {
			// Entry Control / Secure Keypad Door Lock
			genericDeviceClass: 0x40,
			specificDeviceClass: 0x03,
			// No device file in zwave-js's config database matches these
			// ids, so no compat flag changes how the lock is interviewed.
			manufacturerId: 0x7e57,
			productType: 0x0001,
			productId: 0x0001,
			isListening: false,
			isFrequentListening: "1000ms",
			commandClasses: [
				CommandClasses.Version,
				CommandClasses["Manufacturer Specific"],
				{ ccId: CommandClasses["Door Lock"], version: 4 },
				{
					ccId: CommandClasses["User Code"],
					version: 1,
					numUsers: SLOTS,
				},
				{
					ccId: CommandClasses.Notification,
					version: 8,
					supportsV1Alarm: false,
					notificationTypesAndEvents: {
						[ACCESS_CONTROL]: [
							EV.manualLock,
							EV.manualUnlock,
							EV.rfLock,
							EV.rfUnlock,
							EV.keypadLock,
							EV.keypadUnlock,
							EV.jammed,
							EV.keypadDisabled,
							EV.codeLimit,
						],
						[POWER_MANAGEMENT]: [0x0a, 0x0b],
					},
				},
				{ ccId: CommandClasses.Battery, version: 1 },
			],
		},
	});
	node.state.set("DoorLock_currentMode", SECURED);
	node.state.set("battery", 90);
	node.defineBehavior(...createDefaultMockNodeBehaviors());
	// Later behaviours win: these come last.
	node.defineBehavior(
		respondToBatteryGet,
		respondToNotificationGet,
		jammedBolt,
		deadNode,
	);
	return node;
}

function slotCode(node, slot) {
	const status = node.state.get(`UserCode_userIdStatus_${slot}`) ?? 0;
	const code = node.state.get(`UserCode_userCode_${slot}`);
	return { status, code: code == null ? "" : String(code) };
}

function findSlot(node, code) {
	for (let slot = 1; slot <= SLOTS; slot++) {
		const s = slotCode(node, slot);
		if (s.status === 1 && s.code === code) return slot;
	}
	return 0;
}

async function report(controller, node, ccInstance) {
	// Unsolicited reports: the lock tells the controller and moves on.
	await node.sendToController(
		createMockZWaveRequestFrame(ccInstance, { ackRequested: false }),
	);
}

async function notify(controller, node, type, event, eventParameters) {
	await report(
		controller,
		node,
		new cc.NotificationCCReport({
			nodeId: controller.ownNodeId,
			notificationType: type,
			notificationEvent: event,
			eventParameters,
		}),
	);
}

async function reportBolt(controller, node) {
	const mode = node.state.get("DoorLock_currentMode") ?? SECURED;
	await report(
		controller,
		node,
		new cc.DoorLockCCOperationReport({
			nodeId: controller.ownNodeId,
			currentMode: mode,
			targetMode: mode,
			outsideHandlesCanOpenDoor: [false, false, false, false],
			insideHandlesCanOpenDoor: [true, true, true, true],
			duration: undefined,
		}),
	);
}

// --- serial over TCP ---------------------------------------------------------

// The mock serial port takes one Serial API frame per write, but TCP merges
// and splits writes freely. Cut the stream back into frames: SOF (0x01), a
// length byte and that many more bytes; ACK, NAK and CAN are one byte each.
function frameSplitter(onFrame) {
	let buf = Buffer.alloc(0);
	return (chunk) => {
		buf = Buffer.concat([buf, chunk]);
		for (;;) {
			if (buf.length === 0) return;
			if (buf[0] !== 0x01) {
				onFrame(buf.subarray(0, 1));
				buf = buf.subarray(1);
				continue;
			}
			if (buf.length < 2) return;
			const n = buf[1] + 2;
			if (buf.length < n) return;
			onFrame(buf.subarray(0, n));
			buf = buf.subarray(n);
		}
	};
}

async function serveSerial(serial) {
	const { Faucet, ZWaveSerialFrameType } = require("@zwave-js/serial");
	const faucet = new Faucet(serial.readable);
	const server = net.createServer((socket) => {
		socket.setNoDelay(true);
		const writable = new WritableStream({
			write(chunk) {
				if (chunk.type !== ZWaveSerialFrameType.SerialAPI) return;
				socket.write(
					typeof chunk.data === "number"
						? Uint8Array.from([chunk.data])
						: chunk.data,
				);
			},
		});
		faucet.connect(writable);
		// Frames go to the mock one at a time, in order.
		let queue = Promise.resolve();
		const split = frameSplitter((frame) => {
			const copy = Uint8Array.from(frame);
			queue = queue.then(() =>
				serial.writeAsync(copy).catch((e) => log("serial write:", e.message))
			);
		});
		socket.on("data", split);
		socket.on("error", () => {});
		socket.on("close", () => {
			faucet.disconnect();
			void writable.close().catch(() => {});
		});
	});
	server.maxConnections = 1;
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen({ host: HOST, port: 0 }, resolve);
	});
	return server;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once("error", reject);
		s.listen({ host: HOST, port: 0 }, () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// --- the control API -----------------------------------------------------------

function controlAPI(ctx) {
	const { controller, node } = ctx;
	const routes = {
		// A person types a code on the keypad. The lock opens for a code in
		// an enabled slot (Notification Access Control 6 "Keypad unlock
		// operation" with the slot as userId); otherwise it counts a wrong
		// code, and after five disables the keypad for a while.
		"POST /keypad": async (q) => {
			if (ctx.node.state.get("jammed")) return { opened: false, jammed: true };
			if (ctx.keypadDisabled) return { opened: false, disabled: true };
			const slot = findSlot(node, q.code ?? "");
			if (slot === 0) {
				ctx.wrong++;
				if (ctx.wrong >= WRONG_CODES_BEFORE_DISABLE) {
					ctx.keypadDisabled = true;
					ctx.wrong = 0;
					await notify(controller, node, ACCESS_CONTROL, EV.keypadDisabled);
					return { opened: false, disabled: true };
				}
				await notify(controller, node, ACCESS_CONTROL, EV.codeLimit);
				return { opened: false };
			}
			ctx.wrong = 0;
			node.state.set("DoorLock_currentMode", UNSECURED);
			await notify(
				controller,
				node,
				ACCESS_CONTROL,
				EV.keypadUnlock,
				Uint8Array.from([slot]),
			);
			await reportBolt(controller, node);
			return { opened: true, slot };
		},
		// The keypad comes back after its lockout.
		"POST /keypad/enable": async () => {
			ctx.keypadDisabled = false;
			await notify(controller, node, ACCESS_CONTROL, EV.idle, Uint8Array.from([EV.keypadDisabled]));
			return {};
		},
		// Someone turns the thumb turn: ?op=lock|unlock.
		"POST /manual": async (q) => {
			const lock = q.op === "lock";
			node.state.set("DoorLock_currentMode", lock ? SECURED : UNSECURED);
			await notify(
				controller,
				node,
				ACCESS_CONTROL,
				lock ? EV.manualLock : EV.manualUnlock,
			);
			await reportBolt(controller, node);
			return {};
		},
		// The bolt jams: Access Control "Lock state" jammed, Door Lock Unknown.
		"POST /jam": async () => {
			node.state.set("jammed", true);
			node.state.set("DoorLock_currentMode", UNKNOWN);
			await notify(controller, node, ACCESS_CONTROL, EV.jammed);
			await reportBolt(controller, node);
			return {};
		},
		// The door is realigned and the bolt thrown again.
		"POST /unjam": async () => {
			node.state.delete("jammed");
			node.state.set("DoorLock_currentMode", SECURED);
			await notify(controller, node, ACCESS_CONTROL, EV.idle, Uint8Array.from([EV.jammed]));
			await reportBolt(controller, node);
			return {};
		},
		// ?level=N: the lock reports its battery; at 10 or less it also
		// asks for a new one (Power Management "Replace battery now").
		"POST /battery": async (q) => {
			const level = Number(q.level);
			node.state.set("battery", level);
			await report(
				controller,
				node,
				new cc.BatteryCCReport({ nodeId: controller.ownNodeId, level }),
			);
			if (level <= 10) {
				await notify(controller, node, POWER_MANAGEMENT, 0x0b);
			}
			return {};
		},
		// The lock stops answering (out of range, flat battery)...
		"POST /dead": async () => {
			node.state.set("dead", true);
			node.autoAckControllerFrames = false;
			return {};
		},
		// ...and answers again.
		"POST /alive": async () => {
			node.state.delete("dead");
			node.autoAckControllerFrames = true;
			return {};
		},
		// ?slot=N: what the lock holds in a User Code slot.
		"GET /slot": async (q) => slotCode(node, Number(q.slot)),
		"GET /bolt": async () => ({
			mode: node.state.get("DoorLock_currentMode") ?? SECURED,
		}),
		// The hub goes away (the WebSocket server stops) and comes back on
		// the same port.
		"POST /hub/stop": async () => {
			await ctx.stopServer();
			return {};
		},
		"POST /hub/restart": async () => {
			await ctx.restartHub();
			return {};
		},
		"POST /hub/start": async () => {
			await ctx.startServer();
			return {};
		},
	};
	return http.createServer(async (req, res) => {
		const url = new URL(req.url, "http://control");
		const route = routes[`${req.method} ${url.pathname}`];
		const send = (status, body) => {
			res.writeHead(status, { "content-type": "application/json" });
			res.end(JSON.stringify(body));
		};
		if (!route) return send(404, { error: "no such route" });
		try {
			send(200, await route(Object.fromEntries(url.searchParams)));
		} catch (e) {
			log(req.method, url.pathname, e);
			send(500, { error: String(e && e.message || e) });
		}
	});
}

// --- main -------------------------------------------------------------------------

async function main() {
	const started = Date.now();
	const { serial, port: mockPort } = await createAndOpenMockedZWaveSerialPort();
	const controller = await MockController.create({
		homeId: 0x7e570001,
		ownNodeId: 1,
		mockPort,
		serial,
	});
	controller.defineBehavior(...createDefaultMockControllerBehaviors());
	const node = await createLock(controller);
	controller.addNode(node);

	const serialServer = await serveSerial(serial);
	const serialURL = `tcp://${HOST}:${serialServer.address().port}`;

	const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "sparekey-zwavejs-"));
	// The driver keeps its cache (the interview) across a restart of the
	// hub, as a real hub does.
	const newDriver = async () => {
		const d = new Driver(serialURL, {
			// Without this, zwave-js's first interview of a lock it did not
			// include clears every user code on it (see docs/zwave-js.md).
			interview: { queryAllUserCodes: QUERY_ALL_USER_CODES },
			storage: { cacheDir, throttle: "fast" },
			logConfig: process.env.ZWAVEJS_LOG
				? { enabled: true, level: "debug", logToFile: true, filename: process.env.ZWAVEJS_LOG }
				: { enabled: false },
			emitValueUpdateAfterSetValue: true,
			features: { softReset: false },
			timeouts: { report: 2000 },
		});
		d.on("error", (e) => log("driver error:", e.message));
		d.once("driver ready", () => {
			log(`driver ready after ${Date.now() - started} ms`);
			for (const n of d.controller.nodes.values()) {
				n.on("interview stage completed", (_n, stage) =>
					log(`node ${n.id} interview: ${stage} at ${Date.now() - started} ms`));
			}
		});
		const allReady = new Promise((resolve) => d.once("all nodes ready", resolve));
		await new Promise((resolve, reject) => {
			d.once("driver ready", resolve);
			d.start().catch(reject);
		});
		await allReady;
		return d;
	};
	let driver;

	const wsPort = Number(arg("--port", "0")) || (await freePort());
	let server;
	const ctx = {
		controller,
		node,
		wrong: 0,
		keypadDisabled: false,
		async startServer() {
			if (server) return;
			server = new ZwavejsServer(driver, {
				port: wsPort,
				host: HOST,
				enableDNSServiceDiscovery: false,
				logger: {
					debug() {},
					info: (m) => log(m),
					warn: (m) => log("warn", m),
					error: (m) => log("error", m),
				},
			});
			await server.start(true);
		},
		// The whole hub restarts: the server and the driver, which reopens
		// the serial port and reads the network again.
		async restartHub() {
			await ctx.stopServer();
			await driver.destroy();
			driver = await newDriver();
			await ctx.startServer();
		},
		async stopServer() {
			if (!server) return;
			const s = server;
			server = undefined;
			await s.destroy();
		},
	};

	driver = await newDriver();
	await ctx.startServer();

	const control = controlAPI(ctx);
	await new Promise((resolve) => control.listen({ host: HOST, port: 0 }, resolve));

	let stopping = false;
	const stop = async () => {
		if (stopping) return;
		stopping = true;
		control.close();
		await ctx.stopServer().catch(() => {});
		await driver.destroy().catch(() => {});
		serialServer.close();
		controller.destroy();
		fs.rmSync(cacheDir, { recursive: true, force: true });
		process.exit(0);
	};
	process.on("SIGTERM", stop);
	process.on("SIGINT", stop);
	process.stdin.on("end", stop);
	process.stdin.on("close", stop);
	process.stdin.resume();

	process.stdout.write(
		JSON.stringify({
			ready: true,
			ws: `ws://${HOST}:${wsPort}`,
			control: `http://${HOST}:${control.address().port}`,
			node: NODE_ID,
			slots: SLOTS,
			startMs: Date.now() - started,
		}) + "\n",
	);
}

main().catch((e) => {
	log("failed:", e && e.stack || e);
	process.exit(1);
});
