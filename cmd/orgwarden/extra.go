package main

// extraCommands are commands that belong to one function (verify for the
// audit export, restore for offboarding). Their files add them here.
func (c *cli) extraCommands() map[string]command {
	return map[string]command{
		"detect":  c.detectCommand(),
		"policy":  c.policyCommand(),
		"replay":  c.replayCommand(),
		"report":  c.reportCommand(),
		"restore": c.restoreCommand(),
		"verify":  c.verifyCommand(),
	}
}
