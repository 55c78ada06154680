"""The Supabase side: typed calls to setup.sql's functions, the transports that carry them, and what answers mean."""
