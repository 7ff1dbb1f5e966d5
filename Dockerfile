FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /tmp/cnn-playground
COPY . .
# A plain install: the wheel carries the templates, static files and catalogs.
RUN pip install --no-cache-dir . \
    && rm -rf /tmp/cnn-playground \
    && useradd --create-home --uid 10001 playground
USER playground
WORKDIR /home/playground
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["cnn-playground", "serve", "--host", "0.0.0.0", "--port", "8000"]
