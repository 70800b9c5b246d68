from flask import request

from app.media import bp, service
from app.models import Role
from app.rendering import render
from app.security import role_required


@bp.get("/")
@role_required(Role.EDITOR)
def index():
    page = service.list_page(request.args.get("page", 1, type=int))
    return render("media/index.html", block="listing", page=page)
