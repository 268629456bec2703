"""Readers for the public eval-anything dataset formats (EvalAnything-AMU, -InstructionFollowing,
-Selection_Synergy) and for the sectioned answer format the AMG tasks ask models to write."""
