from catalog.cli.main import main

main()
