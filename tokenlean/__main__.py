from tokenlean.server.cli import main

main()
