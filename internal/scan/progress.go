package scan

// Observer follows a scan as it goes, for a progress display. Run calls it from its workers,
// concurrently: Started when a unit's scan begins (after waiting for a free slot), Done with
// each unit's result, including a unit never started because the scan was stopped.
type Observer interface {
	Started(unit string)
	Done(r Result)
}

// started tells o, when set, that u's scan begins.
func (o Options) started(u Unit) {
	if o.Observer != nil {
		o.Observer.Started(u.Policy.Metadata.Name)
	}
}

// done tells o, when set, the result of a unit.
func (o Options) done(r Result) {
	if o.Observer != nil {
		o.Observer.Done(r)
	}
}
