from flask import request

from app.models import Role
from app.rendering import render
from app.reviews import bp, service
from app.security import role_required


@bp.get("/")
@role_required(Role.APPROVER)
def index():
    page = service.queue_page(request.args.get("page", 1, type=int))
    return render("reviews/index.html", block="listing", page=page)
