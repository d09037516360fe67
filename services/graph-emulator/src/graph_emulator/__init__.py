"""A Microsoft Graph v1.0 emulator for Rewind's tests, demo and benchmarks."""
