"""The providers a typed secret belongs to: its shape (`shapes`), and the cheapest authenticated call that shows
whether the provider still accepts it (`check`). Each provider is a request builder and the words its answer
carries, behind one small interface (`provider`)."""
