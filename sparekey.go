// Package sparekey holds the domain of Sparekey: properties, units,
// residents, locks and their code slots, backup requests and links, the
// message outbox, the audit trail, staff, jams and work orders, and
// resident sign-ins. It imports only the standard library; storage,
// devices, delivery and the web live in their own packages.
//
// Each entity has its file, next to the small store interface of its area
// (PropertyStore in property.go, LockStore in lock.go…); Tx in store.go is
// all of them together, so code that needs one area can ask for only that
// area and a test fake implements only what it uses.
package sparekey

import "time"

// Clock tells the time. Everything that needs "now" takes a Clock so tests
// (and the demo's dev clock) can move it.
type Clock interface {
	Now() time.Time
}

// Keyring holds the server secret. Door codes and message bodies are sealed
// with it (AES-GCM) before they reach the database; link tokens and contacts
// are stored only as keyed hashes.
type Keyring interface {
	// Seal encrypts plaintext; Open reverses it and fails on tampering.
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
	// Hash returns a hex HMAC-SHA256 of value, domain-separated by purpose.
	Hash(purpose, value string) string
}

// Hash purposes used with Keyring.Hash.
const (
	HashContact   = "contact"    // a normalized email or E.164 phone
	HashLinkToken = "link-token" // a backup link token
)
