package sessionstore

// Claim and Release let the external tests hold a claim as another write
// would (see claim).
var (
	Claim   = (*Store).claim
	Release = (*Store).release
)
