"""Everything that speaks WeChat: API clients (mini-program, official account) and callbacks."""
