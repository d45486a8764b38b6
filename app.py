from idance_web import create_app

app = create_app()
