package rankstore

// SetFaults makes every Apply stop before folding (skipFold) and every
// fold that writes parts stop after writing them with afterParts (nil
// for none), until restore is called.
func SetFaults(skipFold bool, afterParts error) (restore func()) {
	old := faults
	faults.skipFold, faults.afterParts = skipFold, afterParts
	return func() { faults = old }
}
