from pmem.cli.main import main

main()
