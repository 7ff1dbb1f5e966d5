FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv/cnn-playground
COPY . .
RUN pip install --no-cache-dir -e . \
    && useradd --create-home --uid 10001 playground \
    && chown -R playground /srv/cnn-playground
USER playground
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["cnn-playground", "serve", "--host", "0.0.0.0", "--port", "8000"]
