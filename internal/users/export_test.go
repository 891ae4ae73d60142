package users

// Tests hash with 1 MiB instead of 64: the same code, a hundredth of the
// time under the race detector. TestPasswordHash checks the real cost.
func init() { argonMemory = 1024 }

// RealCost sets the production memory cost for the rest of a test.
func RealCost() func() {
	old := argonMemory
	argonMemory = 64 * 1024
	return func() { argonMemory = old }
}
