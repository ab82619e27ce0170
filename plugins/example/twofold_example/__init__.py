"""An example Twofold pack: support tickets. Copy this folder to start a pack of your own."""
