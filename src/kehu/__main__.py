from kehu.cli.main import app

app()
