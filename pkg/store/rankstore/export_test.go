package rankstore

// SetFaults makes every Apply stop before folding (skipFold) and every
// fold that writes parts stop after writing them with afterParts (nil
// for none), until restore is called.
func SetFaults(skipFold bool, afterParts error) (restore func()) {
	old := faults
	faults.skipFold, faults.afterParts = skipFold, afterParts
	return func() { faults = old }
}

// SetTopFault makes every refresh of a top item fail with err until
// restore is called.
func SetTopFault(err error) (restore func()) {
	old := faults.top
	faults.top = err
	return func() { faults.top = old }
}
