package sdk

// Component is one component a plugin binary offers.
type Component struct {
	Kind Kind
	Name string
	New  func() Plugin
}

// Described is one entry of a plugin binary's describe output.
type Described struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	Info Info   `json:"info"`
}
