package xbl

// Usage is what answering a request cost in storage reads.
type Usage struct {
	Calls       int     // requests sent to the store, retries included
	Retries     int     // retries of keys the store left unprocessed
	Items       int     // items read
	ConsumedRCU float64 // read capacity units consumed
}

// Add adds o to u.
func (u *Usage) Add(o Usage) {
	u.Calls += o.Calls
	u.Retries += o.Retries
	u.Items += o.Items
	u.ConsumedRCU += o.ConsumedRCU
}
