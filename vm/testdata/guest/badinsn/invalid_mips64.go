package main

// invalid executes the instruction word 0x0000000d (BREAK).
func invalid()
