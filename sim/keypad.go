package sim

// KeypadResult is what a virtual lock's keypad answers to a code.
type KeypadResult struct {
	Result  string // one of the Keypad… results below
	Pattern string // PatternXOdd while jammed
	Slot    int    // the matching slot when unlocked
}

// Keypad results.
const (
	KeypadUnlocked = "unlocked"
	KeypadRejected = "rejected"
	KeypadJammed   = "jammed"
	KeypadDisabled = "keypad_disabled"
	PatternXOdd    = "x-odd" // the Pattern of a jammed lock's answer
)
