package sessionstore

// Claim and Release let the external tests hold a claim as another write
// would (claim.go).
var (
	Claim   = (*Store).claim
	Release = (*Store).release
)
