"""AWS plumbing with no spec and no service knowledge: the error types and the one error boundary's
vocabulary (`errors`), injected time and waiting (`wait`), and the one client factory (`aws`)."""
