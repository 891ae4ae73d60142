package store

// Erased is what a message's body reads as once its account's data key was
// deleted (crypto-shredded): the ciphertext is still stored, and nothing
// can open it.
const Erased = "[erased]"
